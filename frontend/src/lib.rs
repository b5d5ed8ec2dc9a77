#![recursion_limit = "512"]
//! The browser entry point: hydrates the server-rendered page and takes over from there.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
