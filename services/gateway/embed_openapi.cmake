file(READ ${INPUT} CONTENT)
file(WRITE ${OUTPUT} "// Generated from openapi.json; do not edit.\n#include <string>\nnamespace tel::gateway {\nconst std::string& openApiDocument() {\n  static const std::string kDocument = R\"tel_openapi(${CONTENT})tel_openapi\";\n  return kDocument;\n}\n}  // namespace tel::gateway\n")
