#!/usr/bin/env python3
"""gen.py - deterministic inputs for the whole-program benchmark (bench/programs).

  gen.py sql N OUT        SQL workload for the sqlite3 shell (N rows in the main table)
  gen.py corpus BYTES OUT text-like corpus for the compressors (words, numbers, JSON-ish lines)
  gen.py yaml N OUT       a YAML stream of documents with N records in all
  gen.py pla NIN NOUT NTERMS OUT   a random espresso PLA (type fd)

Everything comes from random.Random(fixed seed): the same arguments give the same
bytes on every machine.
"""
import random
import sys

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega kernel address sanitizer "
         "shadow memory page slab cache quarantine report stack frame object region "
         "allocation free pointer granule redzone poison unpoison thread task").split()


def sql(n, out):
    r = random.Random(1)
    w = out.write
    w("PRAGMA journal_mode=OFF;\nPRAGMA synchronous=OFF;\n")
    w("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, email TEXT, city TEXT, age INT, bio TEXT);\n")
    w("CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INT, item TEXT, qty INT, price REAL, note TEXT);\n")
    w("CREATE TABLE tags(order_id INT, tag TEXT);\n")
    cities = ["city%02d" % i for i in range(40)]
    batch = 500
    for start in range(0, n, batch):
        w("BEGIN;\n")
        for i in range(start, min(n, start + batch)):
            name = "%s_%s_%d" % (r.choice(WORDS), r.choice(WORDS), i)
            bio = " ".join(r.choice(WORDS) for _ in range(r.randint(3, 25)))
            w("INSERT INTO users VALUES(%d,'%s','%s@example.org','%s',%d,'%s');\n"
              % (i, name, name, r.choice(cities), r.randint(18, 90), bio))
        w("COMMIT;\n")
    m = n * 3
    for start in range(0, m, batch):
        w("BEGIN;\n")
        for i in range(start, min(m, start + batch)):
            note = " ".join(r.choice(WORDS) for _ in range(r.randint(0, 12)))
            w("INSERT INTO orders VALUES(%d,%d,'%s',%d,%.2f,'%s');\n"
              % (i, r.randrange(n), r.choice(WORDS) + str(r.randint(0, 300)),
                 r.randint(1, 9), r.uniform(0.5, 500.0), note))
            if i % 2 == 0:
                w("INSERT INTO tags VALUES(%d,'%s');\n" % (i, r.choice(WORDS)))
        w("COMMIT;\n")
    w("CREATE INDEX users_city ON users(city);\n")
    w("CREATE INDEX orders_user ON orders(user_id);\n")
    w("CREATE INDEX tags_order ON tags(order_id, tag);\n")
    w("SELECT city, count(*), avg(age), max(length(bio)) FROM users GROUP BY city ORDER BY city;\n")
    w("SELECT u.city, count(o.id), round(sum(o.qty*o.price),2) FROM users u JOIN orders o ON o.user_id=u.id "
      "GROUP BY u.city ORDER BY 3 DESC LIMIT 10;\n")
    w("SELECT t.tag, count(*), group_concat(DISTINCT substr(o.item,1,3)) FROM tags t JOIN orders o ON o.id=t.order_id "
      "GROUP BY t.tag ORDER BY t.tag;\n")
    w("SELECT count(*), sum(length(upper(name)||lower(email))), sum(instr(bio,'shadow')) FROM users;\n")
    w("SELECT count(*) FROM (SELECT replace(note,'a','aa') AS x FROM orders WHERE note LIKE '%slab%' ORDER BY x);\n")
    w("CREATE TABLE summary AS SELECT user_id, count(*) AS n, group_concat(item, ';') AS items "
      "FROM orders GROUP BY user_id;\n")
    w("SELECT count(*), sum(n), max(length(items)) FROM summary;\n")
    w("UPDATE users SET bio = bio || ' ' || city WHERE age % 3 = 0;\n")
    w("DELETE FROM orders WHERE qty = 1;\n")
    w("SELECT count(*), round(sum(price),2) FROM orders;\n")
    w("SELECT printf('%s-%05d', city, count(*)) FROM users GROUP BY city HAVING count(*) > 0 ORDER BY 1 LIMIT 5;\n")
    w("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
      "SELECT count(*), sum(length(hex(x))) FROM c;\n" % (n * 2))
    w("DROP INDEX orders_user;\nVACUUM;\n")
    w("SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id=u.id AND o.qty>5);\n")


def corpus(nbytes, out):
    r = random.Random(2)
    size = 0
    lines = []
    while size < nbytes:
        k = r.random()
        if k < 0.5:
            line = " ".join(r.choice(WORDS) for _ in range(r.randint(4, 18)))
        elif k < 0.8:
            line = '{"id": %d, "name": "%s", "value": %.4f, "ok": %s}' % (
                r.randint(0, 10**6), r.choice(WORDS), r.random() * 1000, r.choice(["true", "false"]))
        else:
            line = ",".join(str(r.randint(0, 65535)) for _ in range(r.randint(4, 16)))
        lines.append(line)
        size += len(line) + 1
    out.write("\n".join(lines)[:nbytes])


def yaml(n, out):
    r = random.Random(3)
    w = out.write
    per_doc = 200
    for d in range(0, n, per_doc):
        w("---\n")
        w("batch: %d\nitems:\n" % (d // per_doc))
        for i in range(d, min(n, d + per_doc)):
            w("  - id: %d\n" % i)
            w("    name: %s %s\n" % (r.choice(WORDS), r.choice(WORDS)))
            w("    %s: \"%s\"\n" % (r.choice(WORDS), " ".join(r.choice(WORDS) for _ in range(r.randint(1, 8)))))
            w("    tags: [%s]\n" % ", ".join(r.choice(WORDS) for _ in range(r.randint(0, 6))))
            w("    attrs:\n")
            for _ in range(r.randint(1, 5)):
                w("      %s_%d: %d\n" % (r.choice(WORDS), r.randint(0, 50), r.randint(0, 10**6)))
            if i % 7 == 0:
                w("    text: |\n")
                for _ in range(r.randint(1, 4)):
                    w("      %s\n" % " ".join(r.choice(WORDS) for _ in range(r.randint(3, 12))))


def pla(nin, nout, nterms, out):
    r = random.Random(4)
    w = out.write
    w(".i %d\n.o %d\n.type fd\n.p %d\n" % (nin, nout, nterms))
    for _ in range(nterms):
        cube = "".join(r.choice("01--") for _ in range(nin))
        outs = "".join(r.choice("1000-") for _ in range(nout))
        w("%s %s\n" % (cube, outs))
    w(".e\n")


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    kind, args, path = a[0], a[1:-1], a[-1]
    with open(path, "w") as out:
        if kind == "sql":
            sql(int(args[0]), out)
        elif kind == "corpus":
            corpus(int(args[0]), out)
        elif kind == "yaml":
            yaml(int(args[0]), out)
        elif kind == "pla":
            pla(int(args[0]), int(args[1]), int(args[2]), out)
        else:
            sys.exit("gen.py: unknown kind " + kind)


if __name__ == "__main__":
    main()
