// How `duet errors list` and `duet errors show` present an error item of the
// state store, apart from the commands so that a fuzzer can give it any
// stored item: the item's JSON, and the text `show` prints. Stored text may
// hold any bytes (a database's message in a reason, an operator's words, a
// state store edited by hand); neither form fails on it.
#ifndef DUET_RUNTIME_CLI_ERROR_ITEMS_H_
#define DUET_RUNTIME_CLI_ERROR_ITEMS_H_

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/state/state_store.h"

namespace duet::cli {

// The item with bytes that are not UTF-8 written as \xNN in every text it
// shows, so that showing it can neither fail nor print raw bytes.
state::ErrorItem Shown(state::ErrorItem e);

// The item as `errors list --json` and `errors show --json` print it; `to`
// is the system the item's change was going to. The stored rows and detail
// are JSON when they parse, else their text.
nlohmann::json ItemJson(const state::ErrorItem& e, const std::string& to);

// The text of `errors show` for one item (of Shown).
std::string ItemText(const state::ErrorItem& e, const std::string& to);

}  // namespace duet::cli

#endif  // DUET_RUNTIME_CLI_ERROR_ITEMS_H_
