//! Test doubles shared by the unit tests of every identification parser: an
//! in-memory file and the default limits.

use super::{FileBytes, IdentLimits};

/// A file wholly in memory, owned (`Mem(vec)`) or borrowed (`Mem(&bytes)`):
/// every in-bounds read succeeds.
pub(crate) struct Mem<B>(pub(crate) B);

impl<B: AsRef<[u8]>> FileBytes for Mem<B> {
    fn size(&self) -> u64 {
        self.0.as_ref().len() as u64
    }
    fn read_at(&self, offset: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        self.0.as_ref().get(start..start.checked_add(len)?)
    }
}

/// The default limits.
pub(crate) fn lim() -> IdentLimits {
    IdentLimits::default()
}
