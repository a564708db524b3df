//! Log lines through the host (`thalo.log`): the runtime passes them to its logger, and quotes the
//! last error line of a call in the fault it raises for that call.

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "thalo")]
extern "C" {
    #[link_name = "log"]
    fn thalo_log(level: i32, ptr: *const u8, len: usize);
}

#[cfg(target_arch = "wasm32")]
fn write(level: i32, message: &str) {
    // Safety: the host only reads `len` bytes at `ptr` during the call.
    unsafe { thalo_log(level, message.as_ptr(), message.len()) }
}

#[cfg(not(target_arch = "wasm32"))]
fn write(_level: i32, _message: &str) {}

pub fn debug(message: &str) {
    write(0, message)
}

pub fn info(message: &str) {
    write(1, message)
}

pub fn warn(message: &str) {
    write(2, message)
}

pub fn error(message: &str) {
    write(3, message)
}
