//! Recurrent cells in fixed point. One file per cell; format v1 runs [`leaky`].

pub mod leaky;
