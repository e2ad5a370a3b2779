//! HTML → article text: any bytes give a title and a body, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let a = stancewatch::article::Article::from_html(&html);
    // the text holds no markup delimiters that were not in the input
    if !html.contains('<') {
        assert!(!a.body.contains('<'));
    }
});
