/*
 * Clean: libc functions that allocate behind the program's back (stdio buffers,
 * getline, asprintf, qsort, environment, directory streams, strtok) and hand memory
 * to it to free, which must all work with the runtime's malloc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

static int cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int main(void)
{
	char path[] = "/tmp/kasan-e2e-libc-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return 2;
	FILE *f = fdopen(fd, "w+");

	for (int i = 0; i < 1000; i++)
		fprintf(f, "line %d %s\n", i, i % 2 ? "odd" : "even");
	rewind(f);
	char *line = NULL;
	size_t cap = 0;
	long total = 0;

	while (getline(&line, &cap, f) > 0)
		total += (long)strlen(line);
	free(line);
	fclose(f);
	unlink(path);

	char *s = NULL;

	if (asprintf(&s, "%s-%d-%f", "asprintf", 42, 3.5) < 0)
		return 3;
	total += (long)strlen(s);
	free(s);

	int *a = malloc(1000 * sizeof(int));

	for (int i = 0; i < 1000; i++)
		a[i] = (i * 7919) % 1000;
	qsort(a, 1000, sizeof(int), cmp);
	total += a[999];
	free(a);

	setenv("KASAN_E2E_VAR", "value", 1);
	total += (long)strlen(getenv("KASAN_E2E_VAR"));
	unsetenv("KASAN_E2E_VAR");

	DIR *d = opendir("/");

	if (d) {
		while (readdir(d))
			total++;
		closedir(d);
	}

	char *words = strdup("a,b,,c");
	char *save = NULL;

	for (char *w = strtok_r(words, ",", &save); w; w = strtok_r(NULL, ",", &save))
		total += (long)strlen(w);
	free(words);

	char *cwd = getcwd(NULL, 0);

	total += cwd ? 1 : 0;
	free(cwd);
	printf("total %ld\n", total);
	return 0;
}
