//! [`Kernel`]: the implementations of the f32 kernels (portable, AVX2 + FMA, AVX-512F +
//! FMA), which ones this CPU runs, and the fastest. The trainer uses [`Kernel::best`];
//! tests force every path in [`Kernel::supported`] in turn.

/// One implementation of the f32 kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Plain Rust, any CPU (products: [`super::portable::gemm_acc_ref`]; the
    /// weight-gradient product: `matrixmultiply`'s `sgemm`).
    Portable,
    /// x86-64 AVX2 + FMA, 8 lanes.
    Avx2,
    /// x86-64 AVX-512F + FMA, 16 lanes.
    Avx512,
}

impl Kernel {
    /// Every path, slowest first.
    pub const ALL: [Kernel; 3] = [Kernel::Portable, Kernel::Avx2, Kernel::Avx512];

    /// `portable`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => false,
        }
    }

    /// The paths this CPU supports, slowest first (always starts with `Portable`).
    pub fn supported() -> Vec<Kernel> {
        Kernel::ALL
            .into_iter()
            .filter(|k| k.is_supported())
            .collect()
    }

    /// The fastest path this CPU supports.
    pub fn best() -> Kernel {
        if Kernel::Avx512.is_supported() {
            Kernel::Avx512
        } else if Kernel::Avx2.is_supported() {
            Kernel::Avx2
        } else {
            Kernel::Portable
        }
    }

    /// Panic (a bug in the caller) if this CPU cannot run the path.
    pub fn assert_supported(self) {
        assert!(
            self.is_supported(),
            "kernel {} is not supported by this CPU",
            self.name()
        );
    }
}
