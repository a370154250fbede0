//! What every entry point does at the boundary: no panic crosses it, errors become a status and
//! a message the caller owns, and pointers from C are checked before use.

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The result of a call.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanwiseStatus {
    /// It worked.
    Ok = 0,
    /// An argument is wrong: a null pointer, text that is not UTF-8, options or a processor
    /// block that do not parse, or request bytes that are not an `ExportTraceServiceRequest`.
    /// Nothing was changed.
    InvalidArgument = 1,
    /// The processor could not be loaded or configured (the message names the key).
    LoadFailed = 2,
    /// A bug in spanwise (a Rust panic, caught at the boundary). The handle is still usable.
    Internal = 3,
    /// A tail sampler failed to decide (trap, deadline, error); the message says why.
    PluginFailed = 4,
}

/// A failed call: its status and what to tell the user.
pub(crate) struct Failure {
    pub status: SpanwiseStatus,
    pub message: String,
}

impl Failure {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: SpanwiseStatus::InvalidArgument,
            message: message.into(),
        }
    }

    pub fn load(message: impl Into<String>) -> Self {
        Self {
            status: SpanwiseStatus::LoadFailed,
            message: message.into(),
        }
    }
}

/// Run `body`, turning a failure or a panic into a status and, when `error` is not null, a
/// message written to `*error` (free it with `spanwise_string_free`).
pub(crate) fn guarded(
    error: *mut *mut c_char,
    body: impl FnOnce() -> Result<(), Failure>,
) -> SpanwiseStatus {
    if !error.is_null() {
        // SAFETY: the caller passes null or a pointer to a writable `char *`.
        unsafe {
            *error = std::ptr::null_mut();
        }
    }
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return SpanwiseStatus::Ok,
        Ok(Err(failure)) => failure,
        Err(panic) => Failure {
            status: SpanwiseStatus::Internal,
            message: format!("internal error in spanwise: {}", panic_message(&panic)),
        },
    };
    if !error.is_null() {
        // SAFETY: as above.
        unsafe {
            *error = owned_c_string(&failure.message);
        }
    }
    failure.status
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// `text` as a C string the caller frees with `spanwise_string_free` (a NUL inside the text,
/// which no message should have, is replaced).
pub(crate) fn owned_c_string(text: &str) -> *mut c_char {
    CString::new(text.replace('\0', "\u{fffd}"))
        .expect("no NUL is left")
        .into_raw()
}

/// The UTF-8 text at `pointer`, naming `what` when it is null or not UTF-8.
pub(crate) fn text<'a>(pointer: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if pointer.is_null() {
        return Err(Failure::invalid(format!("{what} is a null pointer")));
    }
    // SAFETY: the caller passes a NUL-terminated string that lives for the call.
    let text = unsafe { CStr::from_ptr(pointer) };
    text.to_str()
        .map_err(|e| Failure::invalid(format!("{what} is not UTF-8: {e}")))
}

/// The `len` bytes at `pointer` (null is allowed when `len` is 0).
pub(crate) fn bytes<'a>(pointer: *const u8, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if pointer.is_null() {
        return Err(Failure::invalid(format!(
            "{what} is a null pointer with a length of {len}"
        )));
    }
    // SAFETY: the caller passes `len` readable bytes that live for the call.
    Ok(unsafe { std::slice::from_raw_parts(pointer, len) })
}

/// Write `value` to `*out`, naming `what` when `out` is null.
pub(crate) fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::invalid(format!("{what} is a null pointer")));
    }
    // SAFETY: the caller passes a pointer to writable memory for one `T`.
    unsafe {
        out.write(value);
    }
    Ok(())
}

/// Drop the box behind `pointer` (made with `Box::into_raw`), if it is not null; a `*_free`
/// function's body.
///
/// # Safety
/// `pointer` is null or came from `Box::into_raw`, and nothing uses it afterwards.
pub(crate) unsafe fn free_box<T>(pointer: *mut T) {
    if !pointer.is_null() {
        guarded(std::ptr::null_mut(), || {
            // SAFETY: as the caller promises.
            drop(unsafe { Box::from_raw(pointer) });
            Ok(())
        });
    }
}

/// The value behind `pointer`, naming `what` when it is null.
///
/// # Safety
/// `pointer` is null or points to a live value that outlives `'a`.
pub(crate) unsafe fn live<'a, T>(pointer: *const T, what: &str) -> Result<&'a T, Failure> {
    if pointer.is_null() {
        return Err(Failure::invalid(format!("{what} is a null pointer")));
    }
    // SAFETY: as the caller promises.
    Ok(unsafe { &*pointer })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic inside an entry point comes out as `Internal` with its message, and the next
    /// call works: nothing unwinds into the caller.
    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let mut error: *mut c_char = std::ptr::null_mut();
        let status = guarded(&mut error, || panic!("a bug on purpose"));
        assert_eq!(status, SpanwiseStatus::Internal);
        // SAFETY: set by `guarded` to a string it made.
        let message = unsafe { CString::from_raw(error) };
        assert_eq!(
            message.to_str().unwrap(),
            "internal error in spanwise: a bug on purpose"
        );
        let status = guarded(&mut error, || Ok(()));
        assert_eq!(status, SpanwiseStatus::Ok);
        assert!(error.is_null(), "a success clears the error");
        // A failure without a place for the message still gives its status.
        let status = guarded(std::ptr::null_mut(), || Err(Failure::invalid("no")));
        assert_eq!(status, SpanwiseStatus::InvalidArgument);
    }
}
