fn main() {
    std::process::exit(mfa::main());
}
