#pragma once
// A client for a node's admin endpoint (Options::admin), as liminal-cli uses it.

#include <chrono>
#include <string>

namespace liminal {

// Sends one admin request, a JSON object such as {"cmd":"status"}, to the
// admin endpoint at `endpoint`, proving knowledge of `cookie` (first asking
// the node for a one-time nonce), and returns the reply: a JSON object with
// "ok": true and the answer, or "ok": false and "error". Throws liminal::Error
// when the node does not answer within `timeout` (for each of the two round
// trips) or the endpoint is unusable. The commands are listed in
// docs/PROTOCOL.md, "Admin endpoint".
std::string admin_request(const std::string& endpoint, const std::string& cookie, const std::string& request,
                          std::chrono::milliseconds timeout);

}  // namespace liminal
