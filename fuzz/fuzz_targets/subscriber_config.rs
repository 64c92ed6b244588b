#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sluice_subscriber::hostile::subscriber_config(data));
