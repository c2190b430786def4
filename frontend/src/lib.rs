//! The browser entry point: the hydration script calls `hydrate()` once the wasm has loaded.
// The pages' view types nest deeply; computing their layout needs more than the default depth.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
