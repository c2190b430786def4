// `sqlx::migrate!` embeds the migrations at compile time; without this a new migration would be missed.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
