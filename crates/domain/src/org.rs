//! The organisation: kinds of units and the codes that name them.

use std::fmt;
use std::str::FromStr;

/// What a unit is; decides where it may sit in the tree (SPEC "Tenancy and organisation").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitKind {
    /// 区委/区政府办公室
    DistrictOffice,
    /// 部门
    Department,
    /// 街道办事处
    Street,
    /// 村居/社区
    Community,
    /// 政务服务大厅, 街道便民服务中心, 社区便民服务站
    Hall,
    /// 窗口, inside a hall, staffed by a department
    Window,
}

impl UnitKind {
    /// Every kind, in the order the tree shows them.
    pub const ALL: [UnitKind; 6] = [
        UnitKind::DistrictOffice,
        UnitKind::Department,
        UnitKind::Street,
        UnitKind::Community,
        UnitKind::Hall,
        UnitKind::Window,
    ];

    /// The name used in code, tables and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::DistrictOffice => "district_office",
            UnitKind::Department => "department",
            UnitKind::Street => "street",
            UnitKind::Community => "community",
            UnitKind::Hall => "hall",
            UnitKind::Window => "window",
        }
    }

    /// Whether a unit of this kind may sit under a unit of kind `parent` (None: at the top).
    pub fn may_sit_under(self, parent: Option<UnitKind>) -> bool {
        use UnitKind::*;
        matches!(
            (self, parent),
            (DistrictOffice, None)
                | (Department | Street, Some(DistrictOffice))
                | (Community, Some(Street))
                | (Hall, Some(Department | Street | Community | DistrictOffice))
                | (Window, Some(Hall))
        )
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no unit kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的单位类型“{0}”")]
pub struct UnknownUnitKind(pub String);

impl FromStr for UnitKind {
    type Err = UnknownUnitKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnitKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownUnitKind(s.to_owned()))
    }
}

/// A unit's code: unique within its tenant; letters, digits and '-', 1–32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitCode(String);

/// Why a string is not a unit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitCodeError {
    /// Empty or longer than 32 characters.
    #[error("单位代码长度应为 1 到 32 个字符")]
    Length,
    /// A character outside letters, digits and '-'.
    #[error("单位代码只能包含字母、数字和“-”，不能包含“{0}”")]
    Character(char),
}

impl UnitCode {
    /// Parses a unit code.
    pub fn parse(s: &str) -> Result<Self, UnitCodeError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 32 {
            return Err(UnitCodeError::Length);
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(UnitCodeError::Character(c));
        }
        Ok(Self(s.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::UnitKind::*;
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        let names = [
            "district_office",
            "department",
            "street",
            "community",
            "hall",
            "window",
        ];
        for (kind, name) in UnitKind::ALL.into_iter().zip(names) {
            assert_eq!(kind.as_str(), name);
            assert_eq!(name.parse::<UnitKind>(), Ok(kind));
        }
        assert!("bureau".parse::<UnitKind>().is_err());
    }

    #[test]
    fn the_tree_allows_only_the_shapes_of_a_district() {
        assert!(DistrictOffice.may_sit_under(None));
        assert!(!Department.may_sit_under(None));
        assert!(Department.may_sit_under(Some(DistrictOffice)));
        assert!(Street.may_sit_under(Some(DistrictOffice)));
        assert!(Community.may_sit_under(Some(Street)));
        assert!(!Community.may_sit_under(Some(Department)));
        assert!(Hall.may_sit_under(Some(Street)));
        assert!(Hall.may_sit_under(Some(Community)));
        assert!(Window.may_sit_under(Some(Hall)));
        assert!(!Window.may_sit_under(Some(Street)));
        assert!(!Street.may_sit_under(Some(Street)));
    }

    #[test]
    fn unit_codes_are_checked() {
        assert_eq!(UnitCode::parse(" ZWFW-01 ").unwrap().as_str(), "ZWFW-01");
        assert_eq!(UnitCode::parse("370104001").unwrap().as_str(), "370104001");
        assert_eq!(UnitCode::parse(""), Err(UnitCodeError::Length));
        assert_eq!(UnitCode::parse(&"A".repeat(33)), Err(UnitCodeError::Length));
        assert_eq!(UnitCode::parse("槐荫"), Err(UnitCodeError::Character('槐')));
        assert_eq!(UnitCode::parse("A B"), Err(UnitCodeError::Character(' ')));
    }
}

/// A member's part in a group of the leading structure (领导小组、工作组).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupRole {
    /// 组长
    Head,
    /// 副组长
    Deputy,
    /// 成员
    Member,
    /// 联络员
    Liaison,
}

impl GroupRole {
    /// Every part, in the order a roster lists them.
    pub const ALL: [GroupRole; 4] = [
        GroupRole::Head,
        GroupRole::Deputy,
        GroupRole::Member,
        GroupRole::Liaison,
    ];

    /// The name used in code, tables and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupRole::Head => "head",
            GroupRole::Deputy => "deputy",
            GroupRole::Member => "member",
            GroupRole::Liaison => "liaison",
        }
    }

    /// The Chinese name.
    pub fn label(self) -> &'static str {
        match self {
            GroupRole::Head => "组长",
            GroupRole::Deputy => "副组长",
            GroupRole::Member => "成员",
            GroupRole::Liaison => "联络员",
        }
    }
}

impl FromStr for GroupRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GroupRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.label() == s)
            .ok_or_else(|| format!("未知的小组职务“{s}”，应为 组长、副组长、成员 或 联络员"))
    }
}

#[cfg(test)]
mod group_tests {
    use super::GroupRole;

    #[test]
    fn group_roles_parse_from_code_or_chinese() {
        assert_eq!("head".parse::<GroupRole>(), Ok(GroupRole::Head));
        assert_eq!("副组长".parse::<GroupRole>(), Ok(GroupRole::Deputy));
        assert_eq!(
            "liaison".parse::<GroupRole>().map(|r| r.label()),
            Ok("联络员")
        );
        assert!("boss".parse::<GroupRole>().unwrap_err().contains("boss"));
    }
}
