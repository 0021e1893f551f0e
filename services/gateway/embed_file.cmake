# Writes OUTPUT, a C++ file defining `const std::string& tel::gateway::FUNCTION()` that returns
# the content of INPUT, so that the binary serves exactly the file it was built with.
file(READ ${INPUT} CONTENT)
get_filename_component(NAME ${INPUT} NAME)
file(WRITE ${OUTPUT} "// Generated from ${NAME}; do not edit.\n#include <string>\nnamespace tel::gateway {\nconst std::string& ${FUNCTION}() {\n  static const std::string kContent = R\"tel_embedded(${CONTENT})tel_embedded\";\n  return kContent;\n}\n}  // namespace tel::gateway\n")
