# Script mode: writes OUTPUT, a C++ file defining embedded::NAME with the bytes of INPUT.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
math(EXPR size "${hex_length} / 2")
file(WRITE "${OUTPUT}"
  "#include <string_view>\n"
  "namespace embedded {\n"
  "static const char ${NAME}_bytes[] = {${bytes} '\\0'};\n"
  "extern const std::string_view ${NAME};\n"
  "const std::string_view ${NAME}(${NAME}_bytes, ${size});\n"
  "}  // namespace embedded\n")
