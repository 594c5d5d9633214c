//! MCU benchmark data (run by `cargo xtask bench-mcu`): mean instructions per step of leaky
//! nets N_rec 64/128/256 with i16 and i8 weights in the QEMU firmware (`-icount shift=0`:
//! one SysTick clock = 40 instructions). Writes TSV rows to `NEUROLOOP_BENCH_OUT`; the
//! figures are printed, never asserted against a time.

#[path = "../src/qemu.rs"]
mod qemu;

use neuroloop_firmware::testing::{discrimination_inputs, random_blob, NetSpec};

/// Instructions per SysTick clock under `-icount shift=0` on mps2-an386 (1 GHz / 25 MHz).
const INSTR_PER_CLOCK: f64 = 40.0;

#[test]
#[ignore = "benchmark: cargo xtask bench-mcu"]
fn firmware_bench_mcu() {
    let mut fw = qemu::Firmware::start();
    let mut rows = String::from("n_rec\tweights\tn_in\tn_out\tblob_bytes\tmacs\tinstr_per_step\n");
    for n_rec in [64usize, 128, 256] {
        for (wbytes, name) in [(2usize, "i16"), (1, "i8")] {
            let spec = NetSpec::new(2, n_rec, 2, wbytes, 1, 40 + n_rec as u64);
            let blob = random_blob(&spec);
            fw.upload(&blob);
            let tel = fw.lockstep(&discrimination_inputs(50, 2, 3));
            // Skip the first steps (warm state); mean over the rest.
            let clocks: Vec<f64> = tel[10..].iter().map(|t| t.step_clocks as f64).collect();
            let instr = clocks.iter().sum::<f64>() / clocks.len() as f64 * INSTR_PER_CLOCK;
            let macs = n_rec * (n_rec + spec.n_in) + spec.n_out * n_rec;
            eprintln!(
                "N_rec {n_rec} {name}: {instr:.0} instructions/step, {:.2} /MAC",
                instr / macs as f64
            );
            rows.push_str(&format!(
                "{n_rec}\t{name}\t{}\t{}\t{}\t{macs}\t{instr:.0}\n",
                spec.n_in,
                spec.n_out,
                blob.len()
            ));
        }
    }
    if let Some(p) = std::env::var_os("NEUROLOOP_BENCH_OUT") {
        std::fs::write(p, rows).unwrap();
    }
}
