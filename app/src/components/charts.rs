//! The analysis drawn as SVG: the waveform with its beat grid and playhead, the energy curve, chroma, MFCC
//! and the spectral shape. Plain markup, so the server renders them and they show before the script runs.

use leptos::prelude::*;
use sfa_features::{Curve, Mfcc, Spectral};

/// Drawing units across every chart; the SVG scales to its box.
const WIDTH: f64 = 1000.0;
const PITCH_CLASSES: [&str; 12] = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"];
const CONTRAST_BANDS: [&str; 7] = ["<200", "200", "400", "800", "1.6k", "3.2k", "6.4k"];

/// The track's outline, min/max per bucket, with a line for every beat (stronger at bar starts) and one for
/// `position`. A click calls `seek` with the time under the pointer.
#[component]
pub fn WaveformChart(
    peaks: Vec<[f32; 2]>,
    beats: Vec<f64>,
    downbeats: Vec<f64>,
    duration: f64,
    #[prop(into)] position: Signal<f64>,
    seek: Callback<f64>,
) -> impl IntoView {
    const HEIGHT: f64 = 120.0;
    let outline = outline(&peaks, HEIGHT);
    let x = move |t: f64| if duration > 0.0 { t / duration * WIDTH } else { 0.0 };
    let grid: String = beats
        .iter()
        .map(|&t| format!("M{:.1} 0V{HEIGHT}", x(t)))
        .collect();
    let bars: String = downbeats
        .iter()
        .map(|&t| format!("M{:.1} 0V{HEIGHT}", x(t)))
        .collect();
    let clicked = move |event: leptos::ev::MouseEvent| {
        let Some(target) = event.current_target() else {
            return;
        };
        let Ok(element) = wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(target) else {
            return;
        };
        let width = element.get_bounding_client_rect().width();
        if width > 0.0 {
            seek.run((f64::from(event.offset_x()) / width).clamp(0.0, 1.0) * duration);
        }
    };
    let head = move || format!("{:.1}", x(position.get().clamp(0.0, duration)));
    view! {
        <svg
            class="chart waveform"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            preserveAspectRatio="none"
            role="img"
            aria-label=format!("Waveform with {} beats", beats.len())
            data-beats=beats.len()
            on:click=clicked
        >
            <path class="waveform-outline" d=outline />
            <path class="beat-grid" d=grid />
            <path class="bar-grid" d=bars />
            <line class="playhead" x1=head x2=head y1="0" y2=HEIGHT />
        </svg>
    }
}

/// One vertical stroke per bucket, from its minimum to its maximum.
fn outline(peaks: &[[f32; 2]], height: f64) -> String {
    let step = WIDTH / peaks.len().max(1) as f64;
    let y = |v: f32| (1.0 - f64::from(v.clamp(-1.0, 1.0))) * height / 2.0;
    peaks
        .iter()
        .enumerate()
        .map(|(i, &[low, high])| {
            // A silent bucket still draws a hairline, so the track's extent shows.
            let (top, bottom) = (y(high), y(low).max(y(high) + 0.5));
            format!("M{:.1} {top:.1}V{bottom:.1}", (i as f64 + 0.5) * step)
        })
        .collect()
}

/// Loudness over time (RMS per step), scaled to the loudest step.
#[component]
pub fn EnergyChart(curve: Curve) -> impl IntoView {
    const HEIGHT: f64 = 100.0;
    let most = curve
        .values
        .iter()
        .copied()
        .fold(0.0f32, f32::max)
        .max(f32::EPSILON);
    let step = WIDTH / (curve.values.len().max(2) - 1) as f64;
    let points: String = curve
        .values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            format!(
                "{:.1},{:.1} ",
                i as f64 * step,
                HEIGHT - f64::from(v / most) * HEIGHT
            )
        })
        .collect();
    let area = format!("0,{HEIGHT} {points}{WIDTH},{HEIGHT}");
    view! {
        <figure class="chart-card">
            <figcaption>"Energy over time"</figcaption>
            <svg class="chart energy" viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none"
                role="img" aria-label=format!("Energy curve, {} points every {} s", curve.values.len(), curve.step_seconds)>
                <polygon class="energy-area" points=area />
                <polyline class="energy-line" points=points />
            </svg>
        </figure>
    }
}

/// How strongly each pitch class sounds across the track, C first.
#[component]
pub fn ChromaChart(chroma: [f64; 12]) -> impl IntoView {
    let most = chroma.iter().copied().fold(0.0, f64::max).max(f64::EPSILON);
    view! {
        <figure class="chart-card">
            <figcaption>"Chroma"</figcaption>
            <Bars
                class="chroma"
                values=chroma.iter().map(|v| v / most).collect()
                labels=PITCH_CLASSES.iter().map(|&l| l.to_owned()).collect()
                describe=move |i| format!("{}: {:.0}%", PITCH_CLASSES[i], chroma[i] / most * 100.0)
            />
        </figure>
    }
}

/// Spectral contrast per octave band, with the summary numbers beside it.
#[component]
pub fn SpectralChart(spectral: Spectral) -> impl IntoView {
    let contrast = spectral.contrast_db;
    let most = contrast.iter().copied().fold(0.0, f64::max).max(f64::EPSILON);
    view! {
        <figure class="chart-card">
            <figcaption>"Spectral shape"</figcaption>
            <Bars
                class="contrast"
                values=contrast.iter().map(|v| v.max(0.0) / most).collect()
                labels=CONTRAST_BANDS.iter().map(|&l| l.to_owned()).collect()
                describe=move |i| format!("Contrast {} Hz: {:.1} dB", CONTRAST_BANDS[i], contrast[i])
            />
            <dl class="facts">
                <div><dt>"Centroid"</dt><dd>{format!("{:.0} Hz", spectral.centroid_hz)}</dd></div>
                <div><dt>"Roll-off"</dt><dd>{format!("{:.0} Hz", spectral.rolloff_hz)}</dd></div>
                <div><dt>"Bandwidth"</dt><dd>{format!("{:.0} Hz", spectral.bandwidth_hz)}</dd></div>
                <div><dt>"Flatness"</dt><dd>{format!("{:.3}", spectral.flatness)}</dd></div>
            </dl>
        </figure>
    }
}

/// The 13 MFCC as a heat strip, their means above and their variances below, each row scaled to itself.
#[component]
pub fn MfccChart(mfcc: Mfcc) -> impl IntoView {
    let row = |values: &[f64], y: f64, what: &'static str| {
        let most = values
            .iter()
            .map(|v| v.abs())
            .fold(0.0, f64::max)
            .max(f64::EPSILON);
        let cell = WIDTH / values.len().max(1) as f64;
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let share = v / most;
                // Blue for negative, amber for positive, stronger with magnitude.
                let hue = if share < 0.0 { 215 } else { 35 };
                let light = 92.0 - share.abs() * 50.0;
                view! {
                    <rect x=format!("{:.1}", i as f64 * cell) y=y width=format!("{cell:.1}") height="40"
                        fill=format!("hsl({hue} 80% {light:.0}%)")>
                        <title>{format!("MFCC {i} {what}: {v:.2}")}</title>
                    </rect>
                }
            })
            .collect_view()
    };
    view! {
        <figure class="chart-card">
            <figcaption>"MFCC (mean, then variance)"</figcaption>
            <svg class="chart mfcc" viewBox=format!("0 0 {WIDTH} 84") preserveAspectRatio="none" role="img"
                aria-label=format!("{} MFCC coefficients", mfcc.mean.len())>
                {row(&mfcc.mean, 0.0, "mean")}
                {row(&mfcc.variance, 44.0, "variance")}
            </svg>
        </figure>
    }
}

/// Labelled bars, each value 0 to 1.
#[component]
fn Bars(
    class: &'static str,
    values: Vec<f64>,
    labels: Vec<String>,
    describe: impl Fn(usize) -> String + 'static,
) -> impl IntoView {
    const HEIGHT: f64 = 300.0;
    // Room under the bars for their labels, which must stay legible when the chart is drawn small.
    const LABELS: f64 = 60.0;
    let slot = WIDTH / values.len().max(1) as f64;
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let height = v.clamp(0.0, 1.0) * (HEIGHT - LABELS);
            view! {
                <g>
                    <rect class="bar" x=format!("{:.1}", i as f64 * slot + slot * 0.15) y=format!("{:.1}", HEIGHT - LABELS - height)
                        width=format!("{:.1}", slot * 0.7) height=format!("{height:.1}")>
                        <title>{describe(i)}</title>
                    </rect>
                    <text class="bar-label" x=format!("{:.1}", (i as f64 + 0.5) * slot) y=HEIGHT - 12.0 text-anchor="middle">
                        {labels[i].clone()}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class=format!("chart bars {class}") viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
            aria-label=format!("{} bars", values.len())>
            {bars}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outline_spans_the_width_with_one_stroke_per_bucket() {
        let d = outline(&[[-1.0, 1.0], [0.0, 0.0], [-0.5, 0.25]], 100.0);
        assert_eq!(d.matches('M').count(), 3);
        assert!(d.starts_with("M166.7 0.0V100.0"), "{d}");
        // Silence is a hairline at the middle, not nothing.
        assert!(d.contains("M500.0 50.0V50.5"), "{d}");
        assert!(d.ends_with("M833.3 37.5V75.0"), "{d}");
    }
}
