#include <iostream>
#include <string>
#include <vector>
#include "compiler/diag/render.h"
#include "compiler/syntax/parser.h"
int main(int argc, char** argv) {
  std::vector<std::string> paths(argv + 1, argv + argc);
  duet::diag::SourceManager sources;
  duet::diag::Diagnostics diags;
  auto module = duet::syntax::LoadModule(paths, {}, sources, diags);
  diags.Sort(sources);
  std::cerr << duet::diag::RenderText(diags, sources, {});
  std::cout << duet::ast::DumpModule(module);
  return diags.has_errors() ? 1 : 0;
}
