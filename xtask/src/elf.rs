//! Section sizes of a firmware ELF (flash and RAM), read directly from the section headers
//! so the benches need no `size` binary from a cross toolchain.

/// Section sizes of an ELF32 file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sizes {
    /// Executable sections.
    pub text: u64,
    /// Read-only data (incl. vector table, built-in model).
    pub rodata: u64,
    /// Initialised RAM (its image also sits in flash).
    pub data: u64,
    /// Zeroed/uninitialised RAM (incl. model slots; stack excluded).
    pub bss: u64,
}

impl Sizes {
    /// Flash bytes: text + rodata + the .data image.
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }
    /// Static RAM bytes: data + bss.
    pub fn ram(&self) -> u64 {
        self.data + self.bss
    }
}

/// Read section sizes from an ELF32 little-endian file (what `size -A` would sum).
pub fn elf_sizes(path: &std::path::Path) -> Result<Sizes, String> {
    let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let u16_at = |o: usize| {
        b.get(o..o + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u64)
    };
    if b.get(..5) != Some(&[0x7f, b'E', b'L', b'F', 1][..]) {
        return Err(format!("{}: not an ELF32 file", path.display()));
    }
    let bad = || format!("{}: truncated ELF", path.display());
    let shoff = u32_at(0x20).ok_or_else(bad)? as usize;
    let shentsize = u16_at(0x2E).ok_or_else(bad)?;
    let shnum = u16_at(0x30).ok_or_else(bad)?;
    let mut s = Sizes::default();
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let (ty, flags, size) = (
            u32_at(h + 4).ok_or_else(bad)?,
            u32_at(h + 8).ok_or_else(bad)?,
            u32_at(h + 20).ok_or_else(bad)?,
        );
        const WRITE: u64 = 1;
        const ALLOC: u64 = 2;
        const EXEC: u64 = 4;
        const NOBITS: u64 = 8;
        if flags & ALLOC == 0 {
            continue;
        }
        match (flags & WRITE != 0, flags & EXEC != 0, ty == NOBITS) {
            (_, true, _) => s.text += size,
            (false, false, _) => s.rodata += size,
            (true, _, false) => s.data += size,
            (true, _, true) => s.bss += size,
        }
    }
    Ok(s)
}
