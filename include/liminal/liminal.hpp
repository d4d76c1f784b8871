#pragma once
// Everything public in one include.

#include <liminal/admin.hpp>
#include <liminal/error.hpp>
#include <liminal/events.hpp>
#include <liminal/groups.hpp>
#include <liminal/message.hpp>
#include <liminal/node.hpp>
#include <liminal/options.hpp>
#include <liminal/pid.hpp>
#include <liminal/process.hpp>
#include <liminal/stats.hpp>
