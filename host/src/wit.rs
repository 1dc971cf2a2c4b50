//! The host side of `wit/policy.wit`, generated: the types plugins and
//! the host exchange, and the traits the host implements (`contract.rs`).

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        world: "policy-plugin",
        path: "../wit",
        // Facts are asked for during `evaluate` only, and host work is
        // priced: a host function may trap.
        imports: { default: trappable },
    });
}

pub(crate) use bindings::palisade::policy::log::Level;
pub(crate) use bindings::palisade::policy::ports::PortRange;
pub(crate) use bindings::palisade::policy::types::*;
