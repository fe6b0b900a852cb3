//! Synthetic enterprises for the demo district and the benchmarks: valid codes (a third of
//! them of the post-2015 MA kind), names as varied as a district's register (place, brand,
//! trade, legal form), every field of the registry filled as a register would have it. The
//! same seed gives the same enterprises.

use chrono::NaiveDate;
use domain::enterprise::{IndustryCode, Scale, Status};
use domain::staff::Phone;
use domain::uscc::Uscc;

use crate::enterprise::EnterpriseValues;

/// Name parts: place, brand (two characters from a pool), trade, legal form.
const PLACES: [&str; 8] = [
    "济南", "槐荫", "山东", "齐鲁", "泉城", "历下", "鲁中", "黄河",
];
const BRAND: &str =
    "华瑞鑫隆泰安恒德兴盛宏源顺达昌祥福康永信嘉诚丰茂汇通明远博达金联创新海天立方正和佳美";
/// Trades with an industry code of GB/T 4754-2017 each.
const TRADES: [(&str, &str); 12] = [
    ("物流", "G5430"),
    ("科技", "I6513"),
    ("医药", "C2720"),
    ("商贸", "F5191"),
    ("建设", "E4790"),
    ("餐饮", "H6210"),
    ("文化", "R8870"),
    ("电子", "C3973"),
    ("机械", "C3499"),
    ("食品", "C1499"),
    ("环保", "N7721"),
    ("置业", "K7010"),
];
const FORMS: [&str; 4] = ["有限公司", "股份有限公司", "有限责任公司", "合伙企业"];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗";
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华文博思远海燕东玉兰志";
const CODE_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A small deterministic generator (xorshift).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is made 1).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What the enterprises refer to in the tenant.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Street unit ids.
    pub streets: Vec<String>,
    /// Liaison leaders: (staff id, their unit id).
    pub leaders: Vec<(String, String)>,
    /// The tenant's leading industries.
    pub leading: Vec<String>,
}

/// A name as the register writes it.
pub fn name(rng: &mut Rng) -> (String, usize) {
    let brand: Vec<char> = BRAND.chars().collect();
    let trade = rng.below(TRADES.len() as u64) as usize;
    let name = format!(
        "{}{}{}{}{}",
        rng.pick(&PLACES),
        rng.pick(&brand),
        rng.pick(&brand),
        TRADES[trade].0,
        rng.pick(&FORMS),
    );
    (name, trade)
}

fn person(rng: &mut Rng) -> String {
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let mut name = rng.pick(&surnames).to_string();
    for _ in 0..1 + rng.below(2) {
        name.push(*rng.pick(&given));
    }
    name
}

/// The `i`-th code: every third of the MA kind, the others with a numeric organisation code;
/// distinct for distinct `i` below 31⁶.
pub fn code(i: usize) -> Uscc {
    let alphabet: Vec<char> = CODE_ALPHABET.chars().collect();
    let mut organisation = String::new();
    let mut rest = i;
    if i.is_multiple_of(3) {
        organisation.push_str("MA");
        for _ in 0..6 {
            organisation.push(alphabet[rest % 31]);
            rest /= 31;
        }
    } else {
        organisation.push_str(&format!("{:08}", 10_000_000 + i % 89_999_999));
    }
    Uscc::complete(&format!("91370104{organisation}")).expect("a generated code completes")
}

/// `n` enterprises, the `i`-th with [`code`]`(first + i)`.
pub fn enterprises(n: usize, first: usize, seed: u64, world: &World) -> Vec<EnterpriseValues> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let (name, trade) = name(&mut rng);
            let key = rng.below(20) == 0;
            let leader = (key && rng.below(5) > 0 && !world.leaders.is_empty())
                .then(|| rng.pick(&world.leaders).clone());
            let street = (!world.streets.is_empty()).then(|| rng.pick(&world.streets).clone());
            let scale = match rng.below(100) {
                0..3 => Scale::Large,
                3..15 => Scale::Medium,
                15..50 => Scale::Small,
                _ => Scale::Micro,
            };
            let status = match rng.below(100) {
                0..80 => Status::Existing,
                80..92 => Status::Operating,
                92..95 => Status::MovedOut,
                95..97 => Status::Revoked,
                _ => Status::Cancelled,
            };
            let established = NaiveDate::from_ymd_opt(1995, 1, 1)
                .and_then(|d| d.checked_add_days(chrono::Days::new(rng.below(11_300))));
            let phone = Phone::parse(&format!("139{:08}", rng.below(100_000_000))).ok();
            EnterpriseValues {
                uscc: code(first + i),
                legal_rep: person(&mut rng),
                address: format!(
                    "济南市槐荫区经{}路{}号",
                    rng.below(12) + 1,
                    rng.below(900) + 1
                ),
                street_id: street,
                industry_code: IndustryCode::parse(TRADES[trade].1).ok(),
                leading_industry: (rng.below(5) < 2 && !world.leading.is_empty())
                    .then(|| rng.pick(&world.leading).clone()),
                scale: Some(scale),
                established_on: established,
                capital: Some((rng.below(5_000) as i64 + 10) * 10_000),
                status,
                contact_name: person(&mut rng),
                contact_phone: phone,
                key_enterprise: key,
                liaison_unit_id: leader.as_ref().map(|(_, unit)| unit.clone()),
                liaison_leader_id: leader.map(|(id, _)| id),
                name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_valid_distinct_and_a_third_of_the_ma_kind() {
        let codes: Vec<Uscc> = (0..3000).map(code).collect();
        let distinct: std::collections::HashSet<&str> = codes.iter().map(Uscc::as_str).collect();
        assert_eq!(distinct.len(), codes.len());
        assert!(codes.iter().all(|c| Uscc::parse(c.as_str()).is_ok()));
        assert_eq!(
            codes.iter().filter(|c| &c.as_str()[8..10] == "MA").count(),
            1000
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_enterprises() {
        let world = World {
            streets: vec!["s1".into(), "s2".into()],
            leaders: vec![("l1".into(), "u1".into())],
            leading: vec!["现代物流".into()],
        };
        let a = enterprises(200, 0, 7, &world);
        assert_eq!(a, enterprises(200, 0, 7, &world));
        assert!(a.iter().any(|e| e.key_enterprise));
        assert!(
            a.iter()
                .all(|e| e.liaison_leader_id.is_none() || e.key_enterprise)
        );
        assert!(a.iter().all(|e| e.street_id.is_some()));
    }
}
