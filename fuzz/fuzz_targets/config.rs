//! Config TOML → validated config: any text gives a config or an error that
//! names the file, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new("/etc/stancewatch/fuzz.toml");
    if let Err(e) = stancewatch::config::Config::parse(text, path) {
        assert_eq!(e.file, "/etc/stancewatch/fuzz.toml");
        assert!(!e.problem.is_empty());
    }
});
