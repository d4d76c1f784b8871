#pragma once
// What liminal throws. Local misuse of the API is a programming error and
// throws a liminal::Error; remote input never makes anything throw (it is
// dropped and counted, see Stats). Every Error has a kind, and each kind is
// also a type, so either a switch on kind() or a catch clause can tell them
// apart.

#include <stdexcept>
#include <string>

namespace liminal {

enum class ErrorKind {
    invalid_argument,  // an argument no call could accept: an empty or too long name, an invalid
                       // pid, more headers or parents than the wire carries, an empty handler
    not_local,         // a pid that must be a (live) process of this node is not
    closed,            // the handle is empty (moved from or default-constructed), or the node stopped
    start_failed,      // the node could not start: invalid Options, or a socket failed to bind
    admin_failed,      // an admin request got no answer or an unusable one (admin_request)
};

const char* to_string(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

class InvalidArgument : public Error {
public:
    explicit InvalidArgument(const std::string& what) : Error(ErrorKind::invalid_argument, what) {}
};

class NotLocal : public Error {
public:
    explicit NotLocal(const std::string& what) : Error(ErrorKind::not_local, what) {}
};

class Closed : public Error {
public:
    explicit Closed(const std::string& what) : Error(ErrorKind::closed, what) {}
};

class StartFailed : public Error {
public:
    explicit StartFailed(const std::string& what) : Error(ErrorKind::start_failed, what) {}
};

class AdminFailed : public Error {
public:
    explicit AdminFailed(const std::string& what) : Error(ErrorKind::admin_failed, what) {}
};

}  // namespace liminal
