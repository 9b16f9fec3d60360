#include "compiler/driver/test_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compiler/exec/executor.h"
#include "compiler/interp/interp.h"
#include "compiler/ir/ir.h"
#include "compiler/ir/lower.h"

namespace duet::driver {
namespace {

std::vector<std::string> PathNames(const check::CheckedModule& model,
                                   const std::vector<check::ColumnRef>& hops) {
  std::vector<std::string> names;
  for (const check::ColumnRef& hop : hops) {
    names.push_back(
        model.tables[static_cast<size_t>(hop.table)].columns[static_cast<size_t>(hop.column)].name);
  }
  return names;
}

std::string Join(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

// Index of the transform a test exercises, or -1.
int FindTransform(const ir::Module& module, const check::CheckedModule& model,
                  const check::TestCase& test) {
  const check::Map& map = model.maps[static_cast<size_t>(test.map)];
  const check::Table& source = model.tables[static_cast<size_t>(map.table(test.given_side))];
  for (size_t i = 0; i < module.transforms.size(); ++i) {
    const ir::Transform& t = module.transforms[i];
    if (t.map == map.name && t.source_table == source.qualified_name) return static_cast<int>(i);
  }
  return -1;
}

std::string OutcomeText(const interp::RowResult& r) {
  switch (r.outcome) {
    case interp::Outcome::kOk:
      return "a row";
    case interp::Outcome::kFiltered:
      return "the row filtered out";
    case interp::Outcome::kError:
      return "error: " + r.message;
  }
  return "?";
}

}  // namespace

TestSummary RunMapTests(const frontend::Result& result, std::ostream& out, bool verbose,
                        bool use_jit) {
  TestSummary summary;
  const check::CheckedModule& model = *result.checked;
  ir::Module module = ir::Lower(model);
  std::unique_ptr<exec::Executor> executor;
  if (use_jit) {
    Expected<std::unique_ptr<exec::Executor>> jit = exec::MakeJit(module, {});
    if (!jit.ok()) {
      out << "cannot compile the maps: " << jit.status().ToString() << "\n";
      summary.failed = static_cast<int>(model.tests.size());
      return summary;
    }
    executor = std::move(*jit);
  } else {
    executor = exec::MakeInterpreter(module);
  }
  for (const check::TestCase& test : model.tests) {
    const check::Map& map = model.maps[static_cast<size_t>(test.map)];
    std::string where =
        fmt::format("{}:{}", result.sources.file(test.range.file).path(), test.range.begin.line);
    std::string title = fmt::format("{} \"{}\"", map.name, test.name);
    int index = FindTransform(module, model, test);
    const ir::Transform* t = index < 0 ? nullptr : &module.transforms[static_cast<size_t>(index)];
    std::vector<std::string> problems;
    interp::RowResult run;
    std::vector<ir::Value> outputs;
    if (t == nullptr) {
      problems.push_back("the map has no transform in this direction");
    } else {
      std::vector<ir::Value> inputs;
      for (const ir::InputSlot& slot : t->inputs) {
        ir::Value v = ir::Value::Null(slot.type.kind);
        for (const check::RowValue& given : test.given) {
          if (PathNames(model, given.path) == slot.path)
            v = ir::ConvertConstant(given.value, slot.type);
        }
        inputs.push_back(std::move(v));
      }
      run = executor->Run(static_cast<size_t>(index), inputs, outputs);
      switch (test.expectation) {
        case check::Expectation::kFiltered:
          if (run.outcome != interp::Outcome::kFiltered) {
            problems.push_back(
                fmt::format("expected the row to be filtered out, got {}", OutcomeText(run)));
          }
          break;
        case check::Expectation::kError:
          if (run.outcome != interp::Outcome::kError) {
            problems.push_back(fmt::format("expected an error, got {}", OutcomeText(run)));
          } else if (test.error_text && run.message.find(*test.error_text) == std::string::npos) {
            problems.push_back(fmt::format("expected an error containing \"{}\", got: {}",
                                           *test.error_text, run.message));
          }
          break;
        case check::Expectation::kRow: {
          if (run.outcome != interp::Outcome::kOk) {
            problems.push_back(fmt::format("expected a row, got {}", OutcomeText(run)));
            break;
          }
          std::vector<std::array<std::string, 3>> rows;  // column, expected, actual
          for (const check::RowValue& expected : test.expected) {
            std::vector<std::string> path = PathNames(model, expected.path);
            auto slot = std::find_if(t->outputs.begin(), t->outputs.end(),
                                     [&](const ir::OutputSlot& o) { return o.path == path; });
            if (slot == t->outputs.end()) {
              problems.push_back(
                  fmt::format("column {} is not written in this direction", Join(path)));
              continue;
            }
            const ir::Value& actual = outputs[static_cast<size_t>(slot - t->outputs.begin())];
            ir::Value want = ir::ConvertConstant(expected.value, slot->type);
            if (!want.Equals(actual))
              rows.push_back({Join(path), want.ToString(), actual.ToString()});
          }
          if (!rows.empty()) {
            size_t w0 = 6, w1 = 8;
            for (const auto& r : rows) {
              w0 = std::max(w0, r[0].size());
              w1 = std::max(w1, r[1].size());
            }
            std::string table =
                fmt::format("    {:<{}}  {:<{}}  {}\n", "column", w0, "expected", w1, "actual");
            for (const auto& r : rows)
              table += fmt::format("    {:<{}}  {:<{}}  {}\n", r[0], w0, r[1], w1, r[2]);
            problems.push_back("output differs:\n" + table);
          }
          break;
        }
      }
    }
    if (problems.empty()) {
      ++summary.passed;
      if (verbose) out << fmt::format("PASS {} ({})\n", title, where);
      continue;
    }
    ++summary.failed;
    out << fmt::format("FAIL {} ({})\n", title, where);
    for (const std::string& p : problems) {
      out << "  " << p << (p.ends_with('\n') ? "" : "\n");
    }
  }
  return summary;
}

}  // namespace duet::driver
