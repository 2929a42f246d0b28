// Compiles the single-file cpp-httplib (Debian source package) into the static release binary.
#include <httplib.h>
