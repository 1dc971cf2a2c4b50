//! The loader's cost is linear in its input: memory within a small constant
//! factor of the text, whatever its shape, and one broken document among
//! many costs no re-parse of the rest.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade::Inputs;

/// Counts live and peak heap bytes of the whole test binary.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// The counters are process-wide, so every test in this binary holds this
/// lock while it allocates: a test running beside a measurement would add
/// its own heap to the peak (it once read 33.2x instead of 26.5x).
static MEASURING: Mutex<()> = Mutex::new(());

#[expect(unsafe_code, reason = "a global allocator is an unsafe trait")]
// SAFETY: every call forwards to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap bytes above the start while loading `text`.
fn peak_of_load(text: &str) -> usize {
    let _one = MEASURING.lock().unwrap();
    let inputs = Inputs::new().text("big.yaml", text);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let (objects, _) = palisade::testing::load(&inputs);
    assert!(objects > 0);
    PEAK.load(Ordering::Relaxed) - base
}

/// Stated bound: loading holds at most this many bytes per byte of YAML:
/// the text itself, the JSON values (serde_json's ~80 bytes per short map
/// entry dominate), the parser's transient tree of one document, and 16
/// bytes of position per node. Measured: 26.5x on this input; a full
/// pointer string per node made the deep part alone grow with its depth.
const FACTOR: usize = 32;

#[test]
fn memory_stays_within_a_constant_factor_for_deep_and_wide_documents() {
    // Deep keys: each document nests 200 levels of long keys, many times
    // over — the shape that stored a full pointer string per node.
    let mut text = String::new();
    for d in 0..40 {
        text.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{d}}}\ndata:\n"
        ));
        let mut indent = String::from("  ");
        for level in 0..200 {
            text.push_str(&format!("{indent}key-{level:03}-{}:\n", "k".repeat(24)));
            indent.push(' ');
        }
        text.push_str(&format!("{indent}leaf: value\n---\n"));
    }
    // Wide: one mapping with many short entries, and a long list.
    text.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide}\ndata:\n");
    for i in 0..20_000 {
        text.push_str(&format!("  k{i}: v\n"));
    }
    text.push_str("---\napiVersion: v1\nkind: List\nitems:\n");
    for i in 0..5_000 {
        text.push_str(&format!(
            "- {{apiVersion: v1, kind: Namespace, metadata: {{name: n{i}}}}}\n"
        ));
    }
    let peak = peak_of_load(&text);
    let factor = peak as f64 / text.len() as f64;
    eprintln!(
        "{} bytes of YAML: peak {peak} bytes, {factor:.1}x",
        text.len()
    );
    assert!(
        peak <= FACTOR * text.len(),
        "peak {peak} bytes for {} bytes of YAML ({factor:.1}x > {FACTOR}x)",
        text.len()
    );
}

#[test]
fn one_broken_document_costs_no_re_parse() {
    // Counted in parser work, not time: with one broken document among
    // 20 000, the loader must still find every other object, and locate
    // the error in its own document.
    let _alone = MEASURING.lock().unwrap();
    let mut text = String::new();
    for i in 0..20_000 {
        if i == 10_000 {
            text.push_str("kind: [unclosed\n---\n");
        }
        text.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: n{i}}}\n---\n"
        ));
    }
    let checked = palisade::testing::load(&Inputs::new().text("many.yaml", text.as_str()));
    assert_eq!(checked, (20_000, 1));
}
