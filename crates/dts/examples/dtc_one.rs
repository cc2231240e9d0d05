//! Compile one file and print "ok" or the error (scratch tool for the data table).
fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("file");
    let mut opts = dts::Options::default();
    while let Some(a) = args.next() {
        if a == "-i" || a == "-I" {
            opts.include_dirs.push(args.next().expect("dir").into());
        }
    }
    match dts::load(std::path::Path::new(&file), &opts) {
        Ok(_) => println!("ok"),
        Err(e) => println!("ERR {:?}: {}", e.kind, e),
    }
}
