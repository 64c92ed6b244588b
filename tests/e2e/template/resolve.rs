//! The template as CloudFormation deploys it for one set of parameter values: the rules checked,
//! the conditions decided, resources and outputs whose condition is false left out, and every
//! intrinsic function the template uses evaluated.
//!
//! Semantics: CloudFormation User Guide, "Parameters" (a `CommaDelimitedList` is a list of
//! trimmed strings), "Rules", "Conditions", and the Template Reference's intrinsic functions
//! (`Fn::Sub` substitutes once: a value it inserts is not substituted again). A `Ref` to a
//! resource gives `<Id>` and `Fn::GetAtt` gives `<Id.Attribute>`, as the real values exist only
//! in AWS; naming a resource that this deployment does not create fails, as it does in
//! CloudFormation. An intrinsic function the template does not use panics rather than guess.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::template;

/// The pseudo parameters of the deployment the tests imagine.
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "eu-west-1";
pub const PARTITION: &str = "aws";

/// One deployment of the template.
pub struct Stack {
    parameters: BTreeMap<String, Value>,
    conditions: RefCell<BTreeMap<String, bool>>,
}

impl Stack {
    /// The stack for `overrides` (the other parameters keep their defaults), or the reason
    /// CloudFormation would refuse it: an unknown parameter, one without a value, a broken rule.
    pub fn deploy(overrides: &[(&str, &str)]) -> Result<Stack, String> {
        let declared = template()["Parameters"]
            .as_object()
            .expect("the template declares parameters");
        if let Some((name, _)) = overrides.iter().find(|(name, _)| !declared.contains_key(*name)) {
            return Err(format!("the template has no parameter {name}"));
        }
        let mut parameters = BTreeMap::new();
        for (name, declaration) in declared {
            let given = overrides
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| *value);
            let text = match (given, declaration.get("Default")) {
                (Some(value), _) => value.to_string(),
                (None, Some(Value::String(default))) => default.clone(),
                (None, Some(default)) => default.to_string(),
                (None, None) => return Err(format!("parameter {name} needs a value")),
            };
            let value = if declaration["Type"] == "CommaDelimitedList" {
                Value::Array(text.split(',').map(|item| Value::from(item.trim())).collect())
            } else {
                Value::String(text)
            };
            parameters.insert(name.clone(), value);
        }
        let stack = Stack {
            parameters,
            conditions: RefCell::new(BTreeMap::new()),
        };
        stack.check_rules()?;
        Ok(stack)
    }

    /// Whether the template's condition `name` holds in this deployment.
    pub fn condition(&self, name: &str) -> bool {
        if let Some(known) = self.conditions.borrow().get(name) {
            return *known;
        }
        let definition = template()["Conditions"]
            .get(name)
            .unwrap_or_else(|| panic!("the template has no condition {name}"));
        let holds = self.boolean(definition);
        self.conditions.borrow_mut().insert(name.to_string(), holds);
        holds
    }

    /// The resource `logical_id` with its properties resolved, or `None` when this deployment
    /// does not create it.
    pub fn resource(&self, logical_id: &str) -> Option<Value> {
        let entry = template()["Resources"]
            .get(logical_id)
            .unwrap_or_else(|| panic!("the template has no resource {logical_id}"));
        if !self.created(entry) {
            return None;
        }
        let mut resolved = entry.clone();
        if let Some(properties) = entry.get("Properties") {
            resolved["Properties"] = self.resolve(properties).unwrap_or(Value::Null);
        }
        Some(resolved)
    }

    /// The logical ids of the resources this deployment creates.
    pub fn resource_ids(&self) -> Vec<String> {
        let all = template()["Resources"].as_object().expect("resources");
        all.iter()
            .filter(|(_, entry)| self.created(entry))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The value of output `name`, or `None` when this deployment does not have it.
    pub fn output(&self, name: &str) -> Option<Value> {
        let entry = template()["Outputs"]
            .get(name)
            .unwrap_or_else(|| panic!("the template has no output {name}"));
        if !self.created(entry) {
            return None;
        }
        self.resolve(&entry["Value"])
    }

    fn created(&self, entry: &Value) -> bool {
        entry
            .get("Condition")
            .and_then(Value::as_str)
            .is_none_or(|name| self.condition(name))
    }

    fn check_rules(&self) -> Result<(), String> {
        let Some(rules) = template().get("Rules").and_then(Value::as_object) else {
            return Ok(());
        };
        for (name, rule) in rules {
            if let Some(when) = rule.get("RuleCondition")
                && !self.boolean(when)
            {
                continue;
            }
            for assertion in rule["Assertions"].as_array().expect("a rule has Assertions") {
                if !self.boolean(&assertion["Assert"]) {
                    let why = assertion["AssertDescription"].as_str().unwrap_or_default();
                    return Err(format!("rule {name}: {why}"));
                }
            }
        }
        Ok(())
    }

    fn boolean(&self, value: &Value) -> bool {
        match self.resolve(value) {
            Some(Value::Bool(holds)) => holds,
            other => panic!("not a condition: {value} gave {other:?}"),
        }
    }

    /// `value` with its intrinsic functions evaluated; `None` is `AWS::NoValue`.
    fn resolve(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Object(fields) if fields.len() == 1 => {
                let (key, argument) = fields.iter().next().expect("one field");
                if key == "Ref" || key == "Condition" || key.starts_with("Fn::") {
                    return self.function(key, argument);
                }
                Some(self.object(fields))
            }
            Value::Object(fields) => Some(self.object(fields)),
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|item| self.resolve(item)).collect(),
            )),
            scalar => Some(scalar.clone()),
        }
    }

    fn object(&self, fields: &Map<String, Value>) -> Value {
        let resolved = fields
            .iter()
            .filter_map(|(key, value)| Some((key.clone(), self.resolve(value)?)))
            .collect();
        Value::Object(resolved)
    }

    fn function(&self, name: &str, argument: &Value) -> Option<Value> {
        let argument_list = || {
            argument
                .as_array()
                .unwrap_or_else(|| panic!("{name} takes a list: {argument}"))
        };
        let text = |value: &Value| scalar_text(&self.resolve(value).unwrap_or(Value::Null));
        let list = |value: &Value| match self.resolve(value) {
            Some(Value::Array(items)) => items.iter().map(scalar_text).collect::<Vec<_>>(),
            other => panic!("{name} needs a list: {value} gave {other:?}"),
        };
        let result = match name {
            "Ref" => return self.reference(argument.as_str().expect("Ref names one thing")),
            "Condition" => Value::Bool(self.condition(argument.as_str().expect("a name"))),
            "Fn::GetAtt" => {
                let (id, attribute) = match argument {
                    Value::String(dotted) => dotted.split_once('.').expect("Id.Attribute"),
                    _ => {
                        let parts = argument_list();
                        (
                            parts[0].as_str().expect("an id"),
                            parts[1].as_str().expect("an attribute"),
                        )
                    }
                };
                Value::from(self.attribute(id, attribute))
            }
            "Fn::If" => {
                let branches = argument_list();
                let condition = branches[0].as_str().expect("Fn::If names a condition");
                let chosen = if self.condition(condition) {
                    &branches[1]
                } else {
                    &branches[2]
                };
                return self.resolve(chosen);
            }
            "Fn::Equals" => {
                let sides = argument_list();
                let left = self.resolve(&sides[0]).unwrap_or(Value::Null);
                let right = self.resolve(&sides[1]).unwrap_or(Value::Null);
                Value::Bool(comparable(&left) == comparable(&right))
            }
            "Fn::Not" => Value::Bool(!self.boolean(&argument_list()[0])),
            "Fn::And" => Value::Bool(argument_list().iter().all(|item| self.boolean(item))),
            "Fn::Or" => Value::Bool(argument_list().iter().any(|item| self.boolean(item))),
            "Fn::EachMemberEquals" => {
                let parts = argument_list();
                let wanted = text(&parts[1]);
                Value::Bool(list(&parts[0]).iter().all(|member| *member == wanted))
            }
            "Fn::Join" => {
                let parts = argument_list();
                let delimiter = parts[0].as_str().expect("Fn::Join's delimiter is a literal");
                Value::from(list(&parts[1]).join(delimiter))
            }
            "Fn::Split" => {
                let parts = argument_list();
                let delimiter = parts[0].as_str().expect("Fn::Split's delimiter is a literal");
                let whole = text(&parts[1]);
                Value::Array(whole.split(delimiter).map(Value::from).collect())
            }
            "Fn::Select" => {
                let parts = argument_list();
                let index: usize = text(&parts[0]).parse().expect("Fn::Select takes an index");
                let items = list(&parts[1]);
                let item = items
                    .get(index)
                    .unwrap_or_else(|| panic!("Fn::Select cannot select index {index} of {items:?}"));
                Value::from(item.as_str())
            }
            "Fn::Sub" => Value::from(self.substitute(argument)),
            other => panic!("the resolver does not know {other}: {argument}"),
        };
        Some(result)
    }

    fn substitute(&self, argument: &Value) -> String {
        let (pattern, variables) = match argument {
            Value::String(pattern) => (pattern.as_str(), BTreeMap::new()),
            Value::Array(parts) => {
                let pattern = parts[0].as_str().expect("Fn::Sub's string is a literal");
                let variables = parts[1]
                    .as_object()
                    .expect("Fn::Sub's variables are a map")
                    .iter()
                    .map(|(name, value)| {
                        let value = self.resolve(value).unwrap_or(Value::Null);
                        (name.clone(), scalar_text(&value))
                    })
                    .collect();
                (pattern, variables)
            }
            other => panic!("Fn::Sub takes a string or a list: {other}"),
        };
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').expect("an unterminated ${ in Fn::Sub");
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.get(name) {
                out.push_str(value);
            } else if let Some((id, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(id, attribute));
            } else {
                let value = self
                    .reference(name)
                    .unwrap_or_else(|| panic!("Fn::Sub of AWS::NoValue: {pattern}"));
                assert!(!value.is_array(), "Fn::Sub cannot insert the list {name}");
                out.push_str(&scalar_text(&value));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn reference(&self, name: &str) -> Option<Value> {
        let pseudo = match name {
            "AWS::NoValue" => return None,
            "AWS::AccountId" => Some(ACCOUNT),
            "AWS::Region" => Some(REGION),
            "AWS::Partition" => Some(PARTITION),
            "AWS::StackName" => Some("sluice"),
            "AWS::URLSuffix" => Some("amazonaws.com"),
            _ => None,
        };
        if let Some(value) = pseudo {
            return Some(Value::from(value));
        }
        if let Some(value) = self.parameters.get(name) {
            return Some(value.clone());
        }
        self.require_resource(name);
        Some(Value::from(format!("<{name}>")))
    }

    fn attribute(&self, id: &str, attribute: &str) -> String {
        self.require_resource(id);
        format!("<{id}.{attribute}>")
    }

    fn require_resource(&self, id: &str) {
        let entry = template()["Resources"]
            .get(id)
            .unwrap_or_else(|| panic!("{id} is neither a parameter nor a resource"));
        assert!(
            self.created(entry),
            "the template names {id}, which this deployment does not create"
        );
    }
}

/// A scalar as CloudFormation compares and joins it: text.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        other => panic!("not a scalar: {other}"),
    }
}

/// `Fn::Equals` compares values as text: the number 0 equals the parameter value "0".
fn comparable(value: &Value) -> Value {
    match value {
        Value::Number(_) | Value::Bool(_) => Value::from(scalar_text(value)),
        other => other.clone(),
    }
}
