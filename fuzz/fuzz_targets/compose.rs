//! Fuzz the compose parser and everything the scanner reads from its result.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bulkhead_sources::fuzzing::compose(data);
});
