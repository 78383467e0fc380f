/*
 * The clean twin of the chk-*.c tests: every checked function on exact-fit buffers (a
 * string's NUL in its object's last byte, copies of exactly the object's size), at every
 * length 0..40 and alignment 0..7, with results compared to what C says. No report.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

static int failures;

#define EXPECT(cond)                                                             \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "line %d: expected %s\n", __LINE__, #cond); \
			failures++;                                              \
		}                                                                \
	} while (0)

/* A heap string of exactly len + 1 bytes at alignment align. */
static char *exact(const char *s, size_t len, size_t align, char **base)
{
	*base = malloc(opaque_size(len + 1 + align));
	memcpy(*base + align, s, len);
	(*base)[align + len] = 0;
	return *base + align;
}

static int vformat(char *b, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vsnprintf(b, n, fmt, ap);
	va_end(ap);
	return r;
}

static int vformat_unbounded(char *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vsprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void strings(void)
{
	static const char text[] = "the quick brown fox jumps over the lazy dog";

	for (size_t len = 0; len <= 40; len++) {
		for (size_t align = 0; align < 8; align++) {
			char *sb, *db;
			char *s = exact(text, len, align, &sb);
			char *d = malloc(opaque_size(len + 1));
			char *two = malloc(opaque_size(2 * len + 1));

			EXPECT(strlen(s) == len && strnlen(s, len) == len);
			EXPECT(strcpy(d, s) == d && strcmp(d, s) == 0);
			EXPECT(stpcpy(d, s) == d + len && memcmp(d, s, len + 1) == 0);
			EXPECT(strncpy(d, s, len + 1) == d && strncmp(d, s, len + 1) == 0);
			EXPECT(strcasecmp(d, s) == 0 && strncasecmp(d, s, len) == 0);
			EXPECT(memccpy(d, s, 0, len + 1) == d + len + 1);
			EXPECT(strscpy(d, s, len + 1) == (ssize_t)len);
			EXPECT(strlcpy(d, s, len + 1) == len && strcmp(d, s) == 0);
			two[0] = 0;
			EXPECT(strcat(two, s) == two && strncat(two, s, len) == two && strlen(two) == 2 * len);
			two[len] = 0;
			EXPECT(strlcat(two, s, 2 * len + 1) == 2 * len);
			EXPECT(memcmp(two, s, len) == 0 && memcmp(two + len, s, len + 1) == 0);
			EXPECT(strchr(s, 0) == s + len && strrchr(s, 0) == s + len && strnchr(s, len + 1, 0) == s + len);
			EXPECT(memchr(s, 0, len + 1) == s + len && memscan(s, 0, len + 1) == s + len);
			EXPECT(strstr(s, "") == s && (len < 3 || strstr(s, s + len - 3) != NULL));
			EXPECT(strspn(s, "the quick brown fox jumps over the lazy dog") == len);
			EXPECT(strcspn(s, "!") == len && strpbrk(s, "!") == NULL);
			char *dup = strdup(s), *ndup = strndup(s, len), *kdup = kstrdup(s, GFP_KERNEL);
			char *kndup = kstrndup(s, len + 5, GFP_KERNEL);
			void *kmem = kmemdup(s, len + 1, GFP_KERNEL);

			EXPECT(strcmp(dup, s) == 0 && strcmp(ndup, s) == 0 && strcmp(kdup, s) == 0);
			EXPECT(strcmp(kndup, s) == 0 && memcmp(kmem, s, len + 1) == 0 && bcmp(kmem, s, len + 1) == 0);
			free(dup);
			free(ndup);
			kfree(kdup);
			kfree(kndup);
			kfree(kmem);
			free(sb);
			free(d);
			free(two);
			(void)db;
		}
	}

	/* strsep over an exact-fit string. */
	char *base, *p = exact("a,b,,c", 6, 0, &base);
	char **cursor = malloc(sizeof(char *));
	int fields = 0;

	*cursor = p;
	while (strsep(cursor, ",") != NULL)
		fields++;
	EXPECT(fields == 4);
	free(cursor);
	free(base);
}

static void usercopy(void)
{
	char *k = kmalloc(opaque_size(16), GFP_KERNEL);
	char *u = malloc(opaque_size(16));

	memcpy(u, "user memory ...", 16);
	EXPECT(copy_from_user(k, u, 16) == 0 && memcmp(k, u, 16) == 0);
	k[0] = 'K';
	EXPECT(copy_to_user(u, k, 16) == 0 && u[0] == 'K');
	EXPECT(strncpy_from_user(k, u, 16) == 15 && strcmp(k, "Kser memory ...") == 0);
	kfree(k);
	free(u);
}

static void io(void)
{
	char *b = malloc(opaque_size(11));
	FILE *f = tmpfile();
	int sv[2];

	memcpy(b, "0123456789", 11);
	EXPECT(write(fileno(f), b, 11) == 11 && pwrite(fileno(f), b, 11, 11) == 11);
	EXPECT(pread(fileno(f), b, 11, 0) == 11 && b[10] == 0);
	EXPECT(lseek(fileno(f), 0, SEEK_SET) == 0 && read(fileno(f), b, 11) == 11);
	EXPECT(fwrite(b, 1, 11, f) == 11 && fseek(f, 0, SEEK_SET) == 0);
	EXPECT(fread(b, 1, 11, f) == 11 && fgets(b, 11, f) == b && strcmp(b, "0123456789") == 0);
	EXPECT(fputs(b, f) >= 0);
	EXPECT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	EXPECT(send(sv[0], b, 11, 0) == 11 && recv(sv[1], b, 11, 0) == 11);
	EXPECT(sendto(sv[0], b, 11, 0, NULL, 0) == 11 && recvfrom(sv[1], b, 11, 0, NULL, NULL) == 11);
	EXPECT(strcmp(b, "0123456789") == 0);
	EXPECT(puts("puts ok") >= 0);
	fclose(f);
	free(b);
}

static void formats(void)
{
	char *b = malloc(opaque_size(13));
	char *s = malloc(opaque_size(6));
	char *un = malloc(opaque_size(8));
	int *n = malloc(sizeof(int));
	char **pp = malloc(sizeof(char *));
	char big[200];

	memcpy(s, "kasan", 6);
	memset(un, 'u', 8);
	EXPECT(snprintf(b, 13, "%s%s", "hello, ", s) == 12 && strcmp(b, "hello, kasan") == 0);
	EXPECT(sprintf(b, "%s, %s", "hello", s) == 12);
	EXPECT(vformat(b, 13, "%c%s%.3d", '>', s, 7) == 9 && strcmp(b, ">kasan007") == 0);
	EXPECT(vformat_unbounded(b, "%s%s%s", s, "-", "123456") == 12);
	EXPECT(printf("%.8s|%.*s|%-3d|%+5.2f|%Lg|%zu|%p|%%|%n\n", un, 8, un, 1, 2.5, (long double)3.5,
		      (size_t)4, (void *)s, n) > 0 && *n > 0);
	EXPECT(fprintf(stdout, "%s %s %s %s %s %s %s %s\n", s, s, s, s, s, s, s, s) == 48);
	EXPECT(dprintf(1, "%f %f %f %f %f %f %f %f %f %s\n", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, s) > 0);
	EXPECT(sprintf(big, "%d %d %d %d %d %d %d %d %s", 1, 2, 3, 4, 5, 6, 7, 8, s) == 21);
	EXPECT(strcmp(big, "1 2 3 4 5 6 7 8 kasan") == 0);
	EXPECT(asprintf(pp, "%s!", s) == 6 && strcmp(*pp, "kasan!") == 0);
	EXPECT(printf("%s\n", (char *)opaque_ptr(NULL)) > 0);
	free(*pp);
	free(pp);
	free(n);
	free(b);
	free(s);
	free(un);
}

/* Tokenising, searching and number parsing on exact-fit heap strings. */
static void parsing(void)
{
	static const char *nums[] = { "0", "  -42", "+7x", "0x1fz", "0755", "99999999999999999999", "z" };
	static const long want[] = { 0, -42, 7, 0x1f, 0755, LONG_MAX, 0 };
	static const int ends[] = { 1, 5, 2, 4, 4, 20, 0 };

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char *b, *end;
		char *s = exact(nums[i], strlen(nums[i]), i % 8, &b);

		errno = 0;
		EXPECT(strtol(s, &end, 0) == want[i] && end == s + ends[i]);
		EXPECT((errno == ERANGE) == (want[i] == LONG_MAX));
		EXPECT(strtoll(s, &end, 0) == want[i] && end == s + ends[i]);
		EXPECT(strtoul(s, NULL, 0) == (unsigned long)want[i] || want[i] == LONG_MAX);
		EXPECT(strtoull(s, NULL, 0) == (unsigned long long)want[i] || want[i] == LONG_MAX);
		if (i != 3 && i != 4 && i != 5)
			EXPECT(atoi(s) == (int)want[i] && atol(s) == want[i] && atoll(s) == want[i]);
		free(b);
	}
	EXPECT(strtol("z1", NULL, 36) == 35 * 36 + 1 && strtoul("-1", NULL, 10) == ULONG_MAX);
	EXPECT(strtol("0x", NULL, 16) == 0 && strtol("12", NULL, 1) == 0 && errno == EINVAL);

	char *b1, *b2, *save;
	char *s = exact(" a,b ,,c ", 9, 3, &b1);
	char *t = exact("x;y", 3, 0, &b2);
	const char *words[] = { "a", "b", "c" };
	int n = 0;

	for (char *w = strtok(s, " ,"); w != NULL; w = strtok(NULL, " ,"))
		EXPECT(n < 3 && strcmp(w, words[n++]) == 0);
	EXPECT(n == 3);
	EXPECT(strcmp(strtok_r(t, ";", &save), "x") == 0 && strcmp(strtok_r(NULL, ";", &save), "y") == 0);
	EXPECT(strtok_r(NULL, ";", &save) == NULL && strtok(NULL, " ") == NULL);
	memcpy(t, "QuI", 3);
	EXPECT(strcasestr(t, "ui") == t + 1 && strcasestr(t, "") == t && strcasestr(t, "qx") == NULL);
	EXPECT(memmem(t, 3, "I", 1) == t + 2 && memmem(t, 3, "", 0) == t && memmem(t, 3, "QuIc", 4) == NULL);
	free(b1);
	free(b2);
}

int main(void)
{
	strings();
	usercopy();
	io();
	formats();
	parsing();
	return failures != 0;
}
