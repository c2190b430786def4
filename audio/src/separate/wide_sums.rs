//! Sums over millions of values in f64, in place of tract's f32 ones.
//!
//! HTDemucs normalises its two inputs over the whole chunk (a mean and a mean square over 2.8 million
//! spectrogram values) and each layer of its time branch likewise (a GroupNorm of one group: up to 8 million
//! values). tract sums those in f32 in a few running totals, whose rounding grows with the count, and the
//! network carries it to every stem: on a 63 s song the bass came out 47 dB from onnxruntime's, mostly in
//! a few chunks' time branch, while onnxruntime against itself with its inputs disturbed by 1e-7 stays
//! above 103 dB. With these sums in f64 every stem is 58 dB or more from onnxruntime's on that song (bass
//! 57.9, the others 77.6 to 88.7), at no measurable cost in time (about 200 million values a chunk, against
//! billions of multiply-adds in the convolutions). What remains is elsewhere in tract's kernels.
//!
//! [`widen`] swaps each such sum in a typed graph for [`WideSum`] (a sum or a mean of squares over some
//! axes) or [`WideRmsNorm`] (x divided by its root mean square along an axis); short reductions, where f32
//! is already exact enough, keep tract's fast kernels.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::{
    as_op,
    internal::*,
    op_as_typed_op, op_out_of_plan,
    ops::nn::{Reduce, Reducer, RmsNorm},
};

/// Reductions over at least this many values are summed in f64.
const WIDE: usize = 1 << 16;

/// Replaces every reduction of `model` over [`WIDE`] values or more with its f64 counterpart.
pub fn widen(model: &mut TypedModel) -> TractResult<()> {
    let mut swaps: Vec<(usize, Box<dyn TypedOp>)> = Vec::new();
    for node in model.nodes() {
        let (reduce, norm) = (node.op_as::<Reduce>(), node.op_as::<RmsNorm>());
        if reduce.is_none() && norm.is_none() {
            continue;
        }
        let input = model.outlet_fact(node.inputs[0])?;
        let Some(shape) = input.shape.as_concrete() else {
            continue;
        };
        if input.datum_type != f32::datum_type() {
            continue;
        }
        let wide = |axes: &[usize]| axes.iter().map(|&a| shape[a]).product::<usize>() >= WIDE;
        match (reduce, norm) {
            (Some(reduce), _) if wide(&reduce.axes) => {
                let mean_of_squares = match reduce.reducer {
                    Reducer::Sum => false,
                    Reducer::MeanOfSquares => true,
                    _ => continue,
                };
                let axes = reduce.axes.to_vec();
                swaps.push((
                    node.id,
                    Box::new(WideSum {
                        axes,
                        mean_of_squares,
                    }),
                ));
            }
            (_, Some(norm)) if wide(&[norm.axis]) => {
                let (axis, eps) = (norm.axis, norm.eps.clone());
                swaps.push((node.id, Box::new(WideRmsNorm { axis, eps })));
            }
            _ => {}
        }
    }
    for (id, op) in swaps {
        let node = model.node(id);
        let inputs = node.inputs.clone();
        TypedModelPatch::replace_single_op(model, node, &inputs, op)?.apply(model)?;
    }
    Ok(())
}

/// A value as it enters a sum: itself, or its square.
fn term(v: f32, square: bool) -> f64 {
    let v = f64::from(v);
    if square { v * v } else { v }
}

/// The f64 sum of `values` (or of their squares), in eight running totals so that the adds overlap.
fn sum(values: impl Iterator<Item = f32>, square: bool) -> f64 {
    let mut totals = [0.0f64; 8];
    for (i, v) in values.enumerate() {
        totals[i % 8] += term(v, square);
    }
    totals.iter().sum()
}

/// As [`sum`], for a contiguous run, eight lanes at a time (which vectorises).
fn sum_slice(values: &[f32], square: bool) -> f64 {
    let mut totals = [0.0f64; 8];
    let blocks = values.chunks_exact(8);
    let rest = blocks.remainder();
    for block in blocks {
        for (total, &v) in totals.iter_mut().zip(block) {
            *total += term(v, square);
        }
    }
    for (total, &v) in totals.iter_mut().zip(rest) {
        *total += term(v, square);
    }
    totals.iter().sum()
}

/// For each position along the axes kept, the f64 sum (or mean of squares) of `input` over `axes`.
fn reduce(input: &Tensor, axes: &[usize], mean_of_squares: bool) -> TractResult<Tensor> {
    let view = input.to_plain_array_view::<f32>()?;
    let shape: Vec<usize> = view
        .shape()
        .iter()
        .enumerate()
        .map(|(a, &d)| if axes.contains(&a) { 1 } else { d })
        .collect();
    let count: usize = axes.iter().map(|&a| view.shape()[a]).product();
    let out = tract_ndarray::ArrayD::from_shape_fn(shape, |at| {
        let spec: Vec<tract_ndarray::SliceInfoElem> = (0..view.ndim())
            .map(|a| {
                if axes.contains(&a) {
                    (..).into()
                } else {
                    at[a].into()
                }
            })
            .collect();
        let part = view.slice(spec.as_slice());
        let total = match part.as_slice() {
            Some(run) => sum_slice(run, mean_of_squares),
            None => sum(part.iter().copied(), mean_of_squares),
        };
        (if mean_of_squares {
            total / count as f64
        } else {
            total
        }) as f32
    });
    Ok(out.into_tensor())
}

/// tract's `Reduce` with `Sum` or `MeanOfSquares`, summed in f64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideSum {
    axes: Vec<usize>,
    mean_of_squares: bool,
}

impl Op for WideSum {
    fn name(&self) -> StaticName {
        "WideSum".into()
    }

    op_as_typed_op!();
}

impl EvalOp for WideSum {
    fn eval(&self, _: &EvalContext<'_>, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        Ok(tvec!(
            reduce(&inputs[0], &self.axes, self.mean_of_squares)?.into_tvalue()
        ))
    }

    op_out_of_plan!();
}

impl TypedOp for WideSum {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let mut shape = inputs[0].shape.clone();
        for &a in &self.axes {
            shape.set(a, 1.into());
        }
        Ok(tvec!(f32::fact(shape)))
    }
}

/// tract's `RmsNorm` (`x / √(mean(x²) + ε)` along one axis), its mean summed in f64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideRmsNorm {
    axis: usize,
    eps: Arc<Tensor>,
}

impl Op for WideRmsNorm {
    fn name(&self) -> StaticName {
        "WideRmsNorm".into()
    }

    op_as_typed_op!();
}

impl EvalOp for WideRmsNorm {
    fn eval(&self, _: &EvalContext<'_>, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let eps = f64::from(self.eps.cast_to_scalar::<f32>()?);
        let squares = reduce(&inputs[0], &[self.axis], true)?;
        let scales = squares
            .to_plain_array_view::<f32>()?
            .mapv(|m| (1.0 / (f64::from(m) + eps).sqrt()) as f32);
        let mut out = inputs[0].clone().into_tensor();
        let mut view = out.to_plain_array_view_mut::<f32>()?;
        view *= &scales;
        Ok(tvec!(out.into_tvalue()))
    }

    op_out_of_plan!();
}

impl TypedOp for WideRmsNorm {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].without_value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: usize = 70_000;

    /// Sums along a long axis and a short one, and a norm along the long one, of `[2, LONG]`.
    fn model() -> TypedModel {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact([2, LONG])).expect("a source");
        let eps = Arc::new(tensor0(1e-5f32));
        let long = model
            .wire_node("long", Reduce::new(tvec![1], Reducer::Sum), &[x])
            .expect("wired");
        let short = model
            .wire_node("short", Reduce::new(tvec![0], Reducer::Sum), &[x])
            .expect("wired");
        let norm = model
            .wire_node("norm", RmsNorm { axis: 1, eps }, &[x])
            .expect("wired");
        model
            .select_output_outlets(&[long[0], short[0], norm[0]])
            .expect("outputs");
        model
    }

    #[test]
    fn only_the_sums_along_a_long_axis_are_swapped() {
        let mut model = model();
        widen(&mut model).expect("widens");
        let ops: Vec<String> = ["long", "short", "norm"]
            .iter()
            .map(|name| {
                model
                    .node_by_name(name)
                    .expect("still there")
                    .op
                    .name()
                    .to_string()
            })
            .collect();
        assert_eq!(ops, ["WideSum", "Reduce<Sum>", "WideRmsNorm"]);
    }

    #[test]
    fn the_wide_ops_give_the_f64_answer() {
        let mut model = model();
        widen(&mut model).expect("widens");
        // Values near 1 with a fine ripple: a running f32 total soon loses the ripple's digits.
        let x: Vec<f32> = (0..2 * LONG)
            .map(|i| 1.0 + ((i * 7919) % 1000) as f32 * 1e-4)
            .collect();
        let input = tract_ndarray::Array2::from_shape_vec((2, LONG), x.clone()).expect("shaped");
        let outputs = model
            .into_runnable()
            .expect("runnable")
            .run(tvec!(input.into_tensor().into_tvalue()))
            .expect("runs");
        let sums = outputs[0]
            .to_plain_array_view::<f32>()
            .expect("f32")
            .iter()
            .copied()
            .collect::<Vec<_>>();
        let norms = outputs[2]
            .to_plain_array_view::<f32>()
            .expect("f32")
            .iter()
            .copied()
            .collect::<Vec<_>>();
        for (row, values) in x.chunks(LONG).enumerate() {
            let exact: f64 = values.iter().map(|&v| f64::from(v)).sum();
            let relative = (f64::from(sums[row]) - exact).abs() / exact;
            assert!(relative < 1e-7, "row {row}: {} against {exact}", sums[row]);
            let rms = (values.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / LONG as f64 + 1e-5).sqrt();
            for (k, &v) in values.iter().enumerate().step_by(997) {
                let want = f64::from(v) / rms;
                let got = f64::from(norms[row * LONG + k]);
                assert!(
                    (got - want).abs() < 1e-6 * want.abs(),
                    "row {row}, {k}: {got} against {want}"
                );
            }
        }
    }
}
