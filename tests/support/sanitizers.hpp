#pragma once
// What a test can measure in the build it runs in.

namespace liminal::test {

// Whether a process's RSS bounds liminal's memory in this build: not under
// ThreadSanitizer, whose shadow memory is several times the program's own
// (the ASan build keeps its RSS checks, with ASan's quarantine made small).
#if defined(__SANITIZE_THREAD__)
inline constexpr bool rss_is_checked = false;
#else
inline constexpr bool rss_is_checked = true;
#endif

}  // namespace liminal::test
