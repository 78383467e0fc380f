-- workload.lua - our Lua 5.4 workload for the whole-program benchmark:
-- tables, strings, closures and the garbage collector. Deterministic; prints
-- only order-independent results (so every build prints the same).
--   lua workload.lua N
local N = tonumber(arg[1]) or 200000

-- 1. records in tables, string keys built with string.format and concatenation
local recs = {}
for i = 1, N do
  recs[i] = { id = i, name = string.format("user%06d", i), tags = { "t" .. (i % 97), "g" .. (i % 13) },
              score = (i * 7919) % 1000 }
end
local byname = {}
for _, r in ipairs(recs) do byname[r.name] = r end
local hits = 0
for i = 1, N, 3 do
  if byname[string.format("user%06d", i)] then hits = hits + 1 end
end

-- 2. group by tag into nested tables, then sort the groups
local groups = {}
for _, r in ipairs(recs) do
  for _, t in ipairs(r.tags) do
    local g = groups[t]
    if not g then g = { n = 0, sum = 0, names = {} }; groups[t] = g end
    g.n = g.n + 1
    g.sum = g.sum + r.score
    g.names[#g.names + 1] = r.name
  end
end
local keys = {}
for k in pairs(groups) do keys[#keys + 1] = k end
table.sort(keys)
local gsum = 0
for _, k in ipairs(keys) do
  local g = groups[k]
  table.sort(g.names, function(a, b) return a > b end)
  gsum = gsum + g.sum + #g.names[1]
end

-- 3. string building: gsub, rep, concat, upper, find
local parts = {}
for i = 1, N // 4 do
  local s = string.rep("ab", i % 17) .. tostring(i)
  s = s:gsub("a", "x"):upper()
  parts[#parts + 1] = s
end
local big = table.concat(parts, ",")
local count = 0
for w in big:gmatch("[^,]+") do
  if w:find("XB", 1, true) then count = count + 1 end
end

-- 4. closures: counters and a chain of composed functions
local function counter(start)
  local c = start
  return function(d) c = c + d; return c end
end
local cs = {}
for i = 1, N // 10 do cs[i] = counter(i) end
local csum = 0
for round = 1, 5 do
  for i = 1, #cs do csum = csum + cs[i](round) end
end
local f = function(x) return x end
for i = 1, 200 do
  local g = f
  f = function(x) return g(x) + 1 end
end
local fsum = 0
for i = 1, N // 100 do fsum = fsum + f(i) end

-- 5. churn: tables made and dropped, a few full collections
local live = {}
for i = 1, N do
  live[i % 1000 + 1] = { i, tostring(i), { i } }
  if i % (N // 4) == 0 then collectgarbage("collect") end
end

print(string.format("lua: N=%d hits=%d groups=%d gsum=%d strings=%d bytes=%d closures=%d fsum=%d",
  N, hits, #keys, gsum, count, #big, csum, fsum))
