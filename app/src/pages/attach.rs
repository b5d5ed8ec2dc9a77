//! Files in the message box: chosen with the paperclip, dropped onto the room or pasted from
//! the clipboard, listed under the box (each removable), then posted with the message in one
//! multipart request to `/api/attach` with a progress bar and a way to cancel. The message
//! then arrives over the room's socket like any other. Without JavaScript the box's file
//! field is part of the plain form, which posts to the same address.
//!
//! Also how a message shows its files: images as thumbnails that open full size, other files
//! as a download with name, size and type.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::model::{file_size, Attachment};
use crate::url;

thread_local! {
    /// The browser's file objects waiting (one message box per page), and the upload going
    /// on. Kept on the browser's one thread: they are neither `Send` nor meant for the server,
    /// where a page is rendered across threads and nothing is ever attached.
    static FILES: RefCell<Vec<web_sys::File>> = const { RefCell::new(Vec::new()) };
    static UPLOAD: RefCell<Option<web_sys::XmlHttpRequest>> = const { RefCell::new(None) };
}

/// The files waiting to go with the next message, as the box shows them, and the upload.
#[derive(Clone, Copy)]
pub struct Pending {
    pub shown: RwSignal<Vec<(String, String)>>,
    /// How far the upload is (0 to 1) while one is going.
    pub progress: RwSignal<Option<f64>>,
}

impl Pending {
    /// A new message box's: nothing waiting.
    pub fn new() -> Self {
        FILES.with_borrow_mut(Vec::clear);
        Self { shown: RwSignal::new(Vec::new()), progress: RwSignal::new(None) }
    }

    pub fn is_empty(&self) -> bool {
        FILES.with_borrow(Vec::is_empty)
    }

    /// Adds the files of a file list (the picker, a drop, a paste).
    pub fn add(&self, list: Option<web_sys::FileList>) {
        let Some(list) = list else { return };
        FILES.with_borrow_mut(|files| files.extend((0..list.length()).filter_map(|i| list.get(i))));
        self.refresh();
    }

    pub fn remove(&self, index: usize) {
        FILES.with_borrow_mut(|files| {
            if index < files.len() {
                files.remove(index);
            }
        });
        self.refresh();
    }

    fn clear(&self) {
        FILES.with_borrow_mut(Vec::clear);
        self.refresh();
    }

    fn refresh(&self) {
        let shown = FILES.with_borrow(|files| {
            files.iter().map(|file| (file.name(), file_size(file.size() as i64))).collect::<Vec<_>>()
        });
        self.shown.set(shown);
    }

    /// Stops the upload going on.
    pub fn cancel(&self) {
        if let Some(xhr) = UPLOAD.with_borrow(Clone::clone) {
            let _ = xhr.abort();
        }
    }

    /// Posts the message with the files; `done` is called with the error to show, if any
    /// (`None`: sent, or cancelled).
    pub fn send(
        &self,
        fields: &[(&str, String)],
        done: impl Fn(Option<String>) + 'static,
    ) -> Result<(), wasm_bindgen::JsValue> {
        let form = web_sys::FormData::new()?;
        for (name, value) in fields {
            form.append_with_str(name, value)?;
        }
        FILES.with_borrow(|files| {
            files.iter().try_for_each(|file| form.append_with_blob_and_filename("file", file, &file.name()))
        })?;
        let xhr = web_sys::XmlHttpRequest::new()?;
        xhr.open("POST", url::ATTACH)?;
        xhr.set_request_header("Accept", "application/json")?;
        let progress = self.progress;
        let on_progress = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
            move |event: web_sys::ProgressEvent| {
                if event.length_computable() && event.total() > 0.0 {
                    progress.set(Some(event.loaded() / event.total()));
                }
            },
        );
        xhr.upload()?.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        on_progress.forget();
        let pending = *self;
        let finished = xhr.clone();
        let on_end = wasm_bindgen::closure::Closure::once_into_js(move || {
            pending.progress.set(None);
            UPLOAD.set(None);
            let status = finished.status().unwrap_or(0);
            let text = finished.response_text().ok().flatten().unwrap_or_default();
            match status {
                200 => {
                    pending.clear();
                    done(None);
                }
                // Cancelled: the files stay, to try again or remove.
                0 if finished.ready_state() == web_sys::XmlHttpRequest::DONE && text.is_empty() => done(None),
                _ if text.is_empty() => done(Some("the upload failed: check your connection and try again".into())),
                _ => done(Some(text)),
            }
        });
        xhr.set_onloadend(Some(on_end.unchecked_ref()));
        progress.set(Some(0.0));
        xhr.send_with_opt_form_data(Some(&form))?;
        UPLOAD.set(Some(xhr));
        Ok(())
    }
}

impl Default for Pending {
    fn default() -> Self {
        Self::new()
    }
}

/// The files waiting under the message box, each with a button to take it out, and the
/// upload's progress with a button to cancel it.
#[component]
pub fn PendingFiles(pending: Pending) -> impl IntoView {
    view! {
        <Show when=move || !pending.shown.with(Vec::is_empty)>
            <ul class="pending-files" data-testid="pending-files" aria-label="Files to send">
                {move || pending.shown.get().into_iter().enumerate().map(|(index, (name, size))| {
                    let label = format!("Remove {name}");
                    view! {
                        <li>
                            <span class="name">{name}</span> " " <span class="muted">{size}</span>
                            <button type="button" class="link" aria-label=label
                                disabled=move || pending.progress.get().is_some()
                                on:click=move |_| pending.remove(index)>"✕"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </Show>
        {move || pending.progress.get().map(|done| view! {
            <p class="upload" data-testid="upload">
                <progress max="1" value=done aria-label="Upload progress"></progress>
                <button type="button" class="link" on:click=move |_| pending.cancel()>"Cancel upload"</button>
            </p>
        })}
    }
    .into_any()
}

/// Thumbnails are shown in at most this square (the server makes them 480 wide at most).
const THUMB_SIDE: u32 = 320;

/// A message's files.
#[component]
pub fn Attachments(files: Vec<Attachment>) -> impl IntoView {
    (!files.is_empty())
        .then(|| {
            view! {
                <ul class="attachments" data-testid="attachments">
                    {files.into_iter().map(|file| match file.thumb_url.clone() {
                        Some(thumb) => {
                            let (width, height) = file.shown_size(THUMB_SIDE).unzip();
                            view! {
                            <li class="image">
                                <a href=file.url.clone() target="_blank" rel="noopener" title=file.name.clone()>
                                    <img src=thumb alt=file.name.clone() loading="lazy" width=width height=height/>
                                </a>
                            </li>
                            }.into_any()
                        }
                        None => view! {
                            <li class="file">
                                <a href=file.url.clone() download=file.name.clone()>
                                    <span aria-hidden="true">"📄 "</span>{file.name.clone()}
                                </a>
                                " " <span class="muted">{file.size_text()} " · " {file.mime.clone()}</span>
                            </li>
                        }.into_any(),
                    }).collect_view()}
                </ul>
            }
        })
        .into_any()
}

/// The files a drag brings, if it brings any.
pub fn dragged_files(event: &web_sys::DragEvent) -> Option<web_sys::FileList> {
    event.data_transfer().and_then(|data| data.files()).filter(|files| files.length() > 0)
}
