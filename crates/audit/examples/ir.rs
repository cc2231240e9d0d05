//! Print a function's statements as the audit reads them: `ir FILE FUNCTION`.
fn main() {
    let mut a = std::env::args().skip(1);
    let (Some(file), Some(func)) = (a.next(), a.next()) else {
        eprintln!("usage: ir FILE FUNCTION");
        std::process::exit(2);
    };
    let src = std::fs::read_to_string(&file).unwrap_or_default();
    let c = audit::cfile::parse(&src);
    match c.functions.get(&func) {
        Some(f) => println!(
            "{}",
            serde_json::to_string_pretty(&f.body).unwrap_or_default()
        ),
        None => eprintln!("{func}: not defined in {file}"),
    }
}
