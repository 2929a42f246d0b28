// Compiles cpp-httplib's implementation once, into the cobinar_httplib static library. Every
// build uses it: scripts/fetch-httplib.sh fetches Debian trixie's cpp-httplib source package and
// splits its single-file httplib.h (as upstream's split.py does) into httplib.h, the declarations
// our code includes, and httplib.cc, the implementation included here.
#include <httplib.cc>
