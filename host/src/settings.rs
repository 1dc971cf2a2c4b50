//! Plugin settings, checked by the host against what each plugin declares
//! in its metadata, before the plugin sees them: an unknown key or a value
//! of the wrong type is an error at its place in the policy set, whatever
//! language the plugin is written in.

use serde_json::Value;

use crate::wit;

/// The type of a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Boolean,
    Integer,
    Text,
    TextList,
    CidrList,
    PortList,
    TextMap,
    /// The plugin checks the shape itself.
    Structured,
}

impl Kind {
    pub(crate) fn from_wit(t: wit::SettingType) -> Kind {
        match t {
            wit::SettingType::Boolean => Kind::Boolean,
            wit::SettingType::Integer => Kind::Integer,
            wit::SettingType::Text => Kind::Text,
            wit::SettingType::TextList => Kind::TextList,
            wit::SettingType::CidrList => Kind::CidrList,
            wit::SettingType::PortList => Kind::PortList,
            wit::SettingType::TextMap => Kind::TextMap,
            wit::SettingType::Structured => Kind::Structured,
        }
    }

    /// How the policy-set author reads the type.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Boolean => "true or false",
            Kind::Integer => "a whole number",
            Kind::Text => "a string",
            Kind::TextList => "a list of strings",
            Kind::CidrList => "a list of CIDRs",
            Kind::PortList => "a list of ports (1-65535)",
            Kind::TextMap => "a map of strings to strings",
            Kind::Structured => "a list or a map",
        }
    }
}

/// One setting a plugin accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setting {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) doc: String,
}

/// Checks settings against the declared ones. `Err` is (JSON pointer
/// inside the settings, message).
pub(crate) fn check(declared: &[Setting], value: &Value) -> Result<(), (String, String)> {
    let map = match value {
        Value::Null => return Ok(()),
        Value::Object(map) => map,
        _ => {
            return Err((
                String::new(),
                "settings must be a map of setting names to values".to_string(),
            ));
        }
    };
    for (key, v) in map {
        let at = format!("/{}", key.replace('~', "~0").replace('/', "~1"));
        let Some(setting) = declared.iter().find(|s| s.name == *key) else {
            let known: Vec<&str> = declared.iter().map(|s| s.name.as_str()).collect();
            return Err((
                at,
                if known.is_empty() {
                    format!("unknown setting `{key}`: the plugin takes no settings")
                } else {
                    format!(
                        "unknown setting `{key}` (the plugin takes: {})",
                        known.join(", ")
                    )
                },
            ));
        };
        if let Err((inner, why)) = fits(setting.kind, v) {
            return Err((
                format!("{at}{inner}"),
                format!(
                    "`{key}` must be {}{}",
                    setting.kind.describe(),
                    why.map(|w| format!(": {w}")).unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `v` is of type `kind`; `Err` is (pointer inside `v`, detail).
fn fits(kind: Kind, v: &Value) -> Result<(), (String, Option<String>)> {
    let list = |v: &Value, item: &dyn Fn(&Value) -> Result<(), Option<String>>| match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| item(x).map_err(|why| (format!("/{i}"), why))),
        _ => Err((String::new(), None)),
    };
    match kind {
        Kind::Boolean if v.is_boolean() => Ok(()),
        Kind::Integer if v.is_i64() || v.is_u64() => Ok(()),
        Kind::Text if v.is_string() => Ok(()),
        Kind::TextList => list(v, &|x| x.is_string().then_some(()).ok_or(None)),
        Kind::CidrList => list(v, &|x| match x.as_str() {
            Some(s) if s.parse::<ipnet::IpNet>().is_ok() => Ok(()),
            Some(s) => Err(Some(format!("`{s}` is not a CIDR"))),
            None => Err(None),
        }),
        Kind::PortList => list(v, &|x| match x.as_u64() {
            Some(p) if (1..=65535).contains(&p) => Ok(()),
            _ => Err(Some(format!("`{x}` is not a port"))),
        }),
        Kind::TextMap => match v {
            Value::Object(m) => m.iter().try_for_each(|(k, x)| {
                x.is_string().then_some(()).ok_or((
                    format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                    None,
                ))
            }),
            _ => Err((String::new(), None)),
        },
        Kind::Structured if v.is_array() || v.is_object() => Ok(()),
        _ => Err((String::new(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Vec<Setting> {
        [
            ("clientCidrs", Kind::CidrList),
            ("ports", Kind::PortList),
            ("labels", Kind::TextMap),
            ("strict", Kind::Boolean),
        ]
        .into_iter()
        .map(|(name, kind)| Setting {
            name: name.to_string(),
            kind,
            doc: String::new(),
        })
        .collect()
    }

    fn check_json(json: &str) -> Result<(), (String, String)> {
        check(&declared(), &serde_json::from_str(json).unwrap())
    }

    #[test]
    fn declared_settings_of_the_right_type_pass() {
        assert_eq!(check_json(r#"{}"#), Ok(()));
        assert_eq!(
            check_json(
                r#"{"clientCidrs": ["10.0.0.0/8"], "ports": [3128], "labels": {"app": "squid"}, "strict": true}"#
            ),
            Ok(())
        );
    }

    #[test]
    fn unknown_keys_name_the_known_ones() {
        let (at, message) = check_json(r#"{"proxyNamespace": "x"}"#).unwrap_err();
        assert_eq!(at, "/proxyNamespace");
        assert!(
            message.contains("unknown setting `proxyNamespace`"),
            "{message}"
        );
        assert!(
            message.contains("clientCidrs, ports, labels, strict"),
            "{message}"
        );
    }

    #[test]
    fn wrong_values_are_located_inside_the_setting() {
        let (at, message) = check_json(r#"{"clientCidrs": ["10.0.0.0/8", "ten"]}"#).unwrap_err();
        assert_eq!(at, "/clientCidrs/1");
        assert!(message.contains("`ten` is not a CIDR"), "{message}");
        let (at, _) = check_json(r#"{"ports": [0]}"#).unwrap_err();
        assert_eq!(at, "/ports/0");
        let (at, _) = check_json(r#"{"labels": {"app": 1}}"#).unwrap_err();
        assert_eq!(at, "/labels/app");
        let (at, message) = check_json(r#"{"strict": "yes"}"#).unwrap_err();
        assert_eq!(at, "/strict");
        assert!(message.contains("true or false"), "{message}");
    }
}
