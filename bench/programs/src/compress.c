/*
 * compress.c - our compress/decompress driver over a third-party compression library
 * (built with -DUSE_ZSTD, -DUSE_LZ4 or -DUSE_ZLIBNG; the library comes from a
 * registry sdist at bench time, see bench/programs/wp.py).
 *
 *   compress FILE LEVEL[,LEVEL...] MINCHUNK MAXCHUNK
 *
 * Cuts FILE into chunks of pseudo-random sizes in [MINCHUNK, MAXCHUNK]; for each chunk
 * and each level it creates a compression context, compresses the chunk into a fresh
 * malloc'ed buffer, frees the context, decompresses with a fresh decompression
 * context into another fresh buffer, checks the round trip and frees everything.
 * So every chunk costs the library's context allocations (hash tables, windows) on
 * top of the coding itself. Prints, per level, the total compressed size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(USE_ZSTD)
#include "zstd.h"
#define LIBNAME "zstd"
#elif defined(USE_LZ4)
#include "lz4.h"
#include "lz4frame.h"
#include "lz4hc.h"
#define LIBNAME "lz4"
#elif defined(USE_ZLIBNG)
#include "zlib-ng.h"
#define LIBNAME "zlib-ng"
#else
#error "define USE_ZSTD, USE_LZ4 or USE_ZLIBNG"
#endif

static void die(const char *what)
{
	fprintf(stderr, "compress(%s): %s\n", LIBNAME, what);
	exit(1);
}

/* compress src[0..n) at level into a new buffer; returns its size */
static size_t do_compress(const char *src, size_t n, int level, char **out)
{
#if defined(USE_ZSTD)
	size_t cap = ZSTD_compressBound(n);
	char *dst = malloc(cap);
	ZSTD_CCtx *c = ZSTD_createCCtx();
	if (!dst || !c)
		die("out of memory");
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	size_t r = ZSTD_compress2(c, dst, cap, src, n);
	if (ZSTD_isError(r))
		die(ZSTD_getErrorName(r));
	ZSTD_freeCCtx(c);
#elif defined(USE_LZ4)
	LZ4F_preferences_t prefs;
	memset(&prefs, 0, sizeof prefs);
	prefs.compressionLevel = level;
	prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	prefs.frameInfo.blockSizeID = LZ4F_max256KB;
	size_t cap = LZ4F_compressFrameBound(n, &prefs);
	char *dst = malloc(cap);
	LZ4F_cctx *c;
	if (!dst || LZ4F_isError(LZ4F_createCompressionContext(&c, LZ4F_VERSION)))
		die("out of memory");
	/* streamed in 64 KiB pieces through one context */
	size_t r = LZ4F_compressBegin(c, dst, cap, &prefs);
	if (LZ4F_isError(r))
		die(LZ4F_getErrorName(r));
	for (size_t off = 0; off < n; off += 65536) {
		size_t piece = n - off < 65536 ? n - off : 65536;
		size_t w = LZ4F_compressUpdate(c, dst + r, cap - r, src + off, piece, NULL);
		if (LZ4F_isError(w))
			die(LZ4F_getErrorName(w));
		r += w;
	}
	size_t w = LZ4F_compressEnd(c, dst + r, cap - r, NULL);
	if (LZ4F_isError(w))
		die(LZ4F_getErrorName(w));
	r += w;
	LZ4F_freeCompressionContext(c);
#elif defined(USE_ZLIBNG)
	size_t cap = zng_compressBound(n) + 64;
	char *dst = malloc(cap);
	zng_stream s;
	memset(&s, 0, sizeof s);
	if (!dst || zng_deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2");
	s.next_in = (const uint8_t *)src;
	s.avail_in = (uint32_t)n;
	s.next_out = (uint8_t *)dst;
	s.avail_out = (uint32_t)cap;
	if (zng_deflate(&s, Z_FINISH) != Z_STREAM_END)
		die("deflate");
	size_t r = s.total_out;
	zng_deflateEnd(&s);
#endif
	*out = dst;
	return r;
}

static void do_decompress(const char *src, size_t n, char *dst, size_t orig)
{
#if defined(USE_ZSTD)
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		die("out of memory");
	size_t r = ZSTD_decompressDCtx(d, dst, orig, src, n);
	if (ZSTD_isError(r) || r != orig)
		die("decompression failed");
	ZSTD_freeDCtx(d);
#elif defined(USE_LZ4)
	LZ4F_dctx *d;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
		die("out of memory");
	size_t in_done = 0, out_done = 0;
	while (in_done < n) {
		size_t in_sz = n - in_done, out_sz = orig - out_done;
		size_t r = LZ4F_decompress(d, dst + out_done, &out_sz, src + in_done, &in_sz, NULL);
		if (LZ4F_isError(r))
			die(LZ4F_getErrorName(r));
		in_done += in_sz;
		out_done += out_sz;
		if (r == 0)
			break;
	}
	if (out_done != orig)
		die("decompression failed");
	LZ4F_freeDecompressionContext(d);
#elif defined(USE_ZLIBNG)
	zng_stream s;
	memset(&s, 0, sizeof s);
	if (zng_inflateInit2(&s, 15 + 16) != Z_OK)
		die("inflateInit2");
	s.next_in = (const uint8_t *)src;
	s.avail_in = (uint32_t)n;
	s.next_out = (uint8_t *)dst;
	s.avail_out = (uint32_t)orig;
	if (zng_inflate(&s, Z_FINISH) != Z_STREAM_END || s.total_out != orig)
		die("inflate failed");
	zng_inflateEnd(&s);
#endif
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: compress FILE LEVEL[,LEVEL...] MINCHUNK MAXCHUNK\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		die("cannot open the input");
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *data = malloc((size_t)len + 1);
	if (!data || fread(data, 1, (size_t)len, f) != (size_t)len)
		die("cannot read the input");
	fclose(f);
	int levels[32], nlev = 0;
	for (char *tok = strtok(argv[2], ","); tok && nlev < 32; tok = strtok(NULL, ","))
		levels[nlev++] = atoi(tok);
	size_t cmin = (size_t)atol(argv[3]), cmax = (size_t)atol(argv[4]);
	if (nlev == 0 || cmin < 1 || cmax < cmin)
		die("bad arguments");
	unsigned long long total[32] = {0};
	uint64_t rng = 88172645463325252ULL;
	size_t chunks = 0;
	for (size_t off = 0; off < (size_t)len; chunks++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		size_t n = cmin + (size_t)(rng % (cmax - cmin + 1));
		if (n > (size_t)len - off)
			n = (size_t)len - off;
		for (int l = 0; l < nlev; l++) {
			char *comp;
			size_t clen = do_compress(data + off, n, levels[l], &comp);
			char *back = malloc(n);
			if (!back)
				die("out of memory");
			do_decompress(comp, clen, back, n);
			if (memcmp(back, data + off, n) != 0)
				die("round trip mismatch");
			total[l] += clen;
			free(back);
			free(comp);
		}
		off += n;
	}
	printf("%s: %ld bytes in %zu chunks\n", LIBNAME, len, chunks);
	for (int l = 0; l < nlev; l++)
		printf("  level %d: %llu bytes\n", levels[l], total[l]);
	free(data);
	return 0;
}
