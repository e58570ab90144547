//! Rebuilds when a migration is added: `sqlx::migrate!` embeds the `migrations/` folders at
//! compile time, and cargo does not otherwise notice a new file there (sqlx's advice).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
