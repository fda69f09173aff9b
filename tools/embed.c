/* Build-time tool: writes a C file defining `const char NAME[]` with the
 * bytes of a source file, so hand-written kernel sources in kernels/ are
 * embedded into the library. Usage: embed NAME INPUT OUTPUT */
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: embed NAME INPUT OUTPUT\n");
        return 2;
    }
    FILE *in = fopen(argv[2], "rb"), *out = fopen(argv[3], "w");
    if (!in || !out) {
        perror("embed");
        return 1;
    }
    fprintf(out, "/* generated from %s by tools/embed.c */\nconst char %s[] = {", argv[2], argv[1]);
    int c, n = 0;
    while ((c = fgetc(in)) != EOF) {
        fprintf(out, "%s0x%02x", n == 0 ? "\n    " : n % 16 ? ", " : ",\n    ", c);
        n++;
    }
    fprintf(out, "%s0x00\n};\n", n == 0 ? "\n    " : n % 16 ? ", " : ",\n    ");
    int bad = ferror(in) || fclose(out) != 0;
    fclose(in);
    return bad;
}
