//! Notifications: the events that are told, the channels beyond the in-app inbox, what a user
//! chooses to receive where (preferences), and the tenant's channel settings (the SMS gateway
//! and its message template, the supervision notice number pattern). Rules only; the store
//! keeps and sends.

use std::collections::BTreeSet;
use std::fmt;

use crate::staff::Phone;

/// What happened, told to the people concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// A record was assigned to the unit (派发).
    Assigned,
    /// Its deadline falls within one working day.
    DueSoon,
    /// Its deadline has passed.
    Overdue,
    /// A supervision notice (督办单) was issued.
    Notice,
    /// A unit asked for the one extension of a deadline (to the approvers).
    ExtensionRequested,
    /// The request was approved or refused (to the unit).
    ExtensionDecided,
}

impl Event {
    /// Every event, in the order pages list them.
    pub const ALL: [Event; 6] = [
        Event::Assigned,
        Event::DueSoon,
        Event::Overdue,
        Event::Notice,
        Event::ExtensionRequested,
        Event::ExtensionDecided,
    ];

    /// The code in tables and the API.
    pub fn code(self) -> &'static str {
        match self {
            Event::Assigned => "assigned",
            Event::DueSoon => "due_soon",
            Event::Overdue => "overdue",
            Event::Notice => "notice",
            Event::ExtensionRequested => "extension_requested",
            Event::ExtensionDecided => "extension_decided",
        }
    }

    /// The event of a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    /// Its name on pages.
    pub fn label(self) -> &'static str {
        match self {
            Event::Assigned => "新派发",
            Event::DueSoon => "一个工作日内到期",
            Event::Overdue => "已超期",
            Event::Notice => "督办单",
            Event::ExtensionRequested => "延期申请",
            Event::ExtensionDecided => "延期审批结果",
        }
    }
}

/// A channel beyond the inbox, which always receives every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// E-mail over SMTP.
    Email,
    /// SMS through the tenant's HTTP gateway.
    Sms,
}

impl Channel {
    /// Both channels.
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Sms];

    /// The code in tables and the API.
    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// An e-mail address: kept to what mail relays accept — one `@`, a local part of printable
/// ASCII without spaces, a domain of labels (letters, digits, hyphens) with at least one dot.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

/// Why a text is not an e-mail address (never repeating it: it is personal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("邮箱地址格式不正确，应如 zhangsan@example.gov.cn")]
pub struct EmailError;

impl Email {
    /// Parses an address, trimming spaces; the domain is kept in lower case.
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        let s = s.trim();
        if s.len() > 254 {
            return Err(EmailError);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
        } else {
            Err(EmailError)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with the local part hidden but its first character: `z***@example.gov.cn`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

/// What one user receives beyond the inbox, and where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preferences {
    /// Where mail goes.
    pub email: Option<Email>,
    /// The mobile number SMS go to.
    pub mobile: Option<Phone>,
    /// Events sent by mail.
    pub email_events: BTreeSet<Event>,
    /// Events sent by SMS.
    pub sms_events: BTreeSet<Event>,
}

/// A preference that cannot be kept: the field and a clerk's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PreferenceError {
    /// The field at fault.
    pub field: &'static str,
    /// Why.
    pub message: String,
}

impl Preferences {
    /// Checks and builds preferences from what a form or the API sent: addresses as text
    /// (empty = none), events by code. Events on a channel need its address; SMS go to
    /// mobile numbers only.
    pub fn parse(
        email: &str,
        mobile: &str,
        email_events: &[String],
        sms_events: &[String],
    ) -> Result<Self, PreferenceError> {
        let email = match email.trim() {
            "" => None,
            text => Some(Email::parse(text).map_err(|e| PreferenceError {
                field: "email",
                message: e.to_string(),
            })?),
        };
        let mobile = match mobile.trim() {
            "" => None,
            text => {
                let phone = Phone::parse(text)
                    .ok()
                    .filter(|p| !p.as_str().contains('-'));
                Some(phone.ok_or_else(|| PreferenceError {
                    field: "mobile",
                    message: "短信只能发往 11 位手机号码".to_owned(),
                })?)
            }
        };
        let events = |field: &'static str, codes: &[String]| {
            codes
                .iter()
                .map(|code| {
                    Event::from_code(code.trim()).ok_or_else(|| PreferenceError {
                        field,
                        message: format!(
                            "没有“{}”这种通知事件（可选：assigned、due_soon、overdue、notice、extension_requested、extension_decided）",
                            code.trim()
                        ),
                    })
                })
                .collect::<Result<BTreeSet<_>, _>>()
        };
        let email_events = events("email_events", email_events)?;
        let sms_events = events("sms_events", sms_events)?;
        if email.is_none() && !email_events.is_empty() {
            return Err(PreferenceError {
                field: "email",
                message: "选择了邮件通知，请填写邮箱地址".to_owned(),
            });
        }
        if mobile.is_none() && !sms_events.is_empty() {
            return Err(PreferenceError {
                field: "mobile",
                message: "选择了短信通知，请填写手机号码".to_owned(),
            });
        }
        Ok(Self {
            email,
            mobile,
            email_events,
            sms_events,
        })
    }

    /// The events of a channel.
    pub fn events(&self, channel: Channel) -> &BTreeSet<Event> {
        match channel {
            Channel::Email => &self.email_events,
            Channel::Sms => &self.sms_events,
        }
    }
}

/// Events as stored: codes between commas (`,assigned,notice,`), so one `LIKE '%,code,%'`
/// finds the recipients of an event.
pub fn events_text(events: &BTreeSet<Event>) -> String {
    let mut text = String::from(",");
    for event in events {
        text.push_str(event.code());
        text.push(',');
    }
    text
}

/// Events from their stored text; unknown codes are dropped.
pub fn events_from_text(text: &str) -> BTreeSet<Event> {
    text.split(',').filter_map(Event::from_code).collect()
}

/// Where a tenant's SMS go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsGateway {
    /// Not sent (no gateway configured).
    Off,
    /// Written to the server log only (demo and trials).
    Log,
    /// POSTed as JSON to this `http://` URL.
    Http(String),
}

/// The SMS settings' message when the gateway is not one of the three forms.
pub const GATEWAY_ERROR: &str =
    "短信网关应为空（不发送）、log（仅写入日志）或 http:// 开头的网关地址";

impl SmsGateway {
    /// Reads the setting: empty, `log` or an `http://host[:port]/path` URL (HTTPS gateways
    /// are reached through a local forwarder: the server speaks plain HTTP to it).
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.trim();
        match s {
            "" | "off" => Ok(Self::Off),
            "log" => Ok(Self::Log),
            url => {
                let rest = url.strip_prefix("http://").ok_or(GATEWAY_ERROR)?;
                let host = rest.split(['/', '?']).next().unwrap_or("");
                let host_ok = !host.is_empty()
                    && host.len() <= 255
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
                if host_ok && !url.contains(char::is_whitespace) {
                    Ok(Self::Http(url.to_owned()))
                } else {
                    Err(GATEWAY_ERROR)
                }
            }
        }
    }

    /// The setting's text.
    pub fn as_setting(&self) -> &str {
        match self {
            SmsGateway::Off => "",
            SmsGateway::Log => "log",
            SmsGateway::Http(url) => url,
        }
    }
}

/// The SMS template unless the tenant set one.
pub const DEFAULT_SMS_TEMPLATE: &str = "【{tenant}】{title}。请登录营商环境优化平台处理。";

/// Longest SMS template (a long SMS is split by carriers; keep it to about two parts).
pub const MAX_SMS_TEMPLATE: usize = 120;

/// Checks an SMS template: it must say what happened (`{title}`), may name the district
/// (`{tenant}`), and holds no other placeholder.
pub fn check_sms_template(template: &str) -> Result<(), String> {
    let template = template.trim();
    if template.chars().count() > MAX_SMS_TEMPLATE {
        return Err(format!("短信模板不能超过 {MAX_SMS_TEMPLATE} 个字"));
    }
    if !template.contains("{title}") {
        return Err("短信模板须包含 {title}（通知内容）".to_owned());
    }
    let rest = template.replace("{title}", "").replace("{tenant}", "");
    if rest.contains('{') || rest.contains('}') {
        return Err("短信模板只能使用 {title} 和 {tenant} 两个占位符".to_owned());
    }
    Ok(())
}

/// The SMS text of a message.
pub fn render_sms(template: &str, tenant: &str, title: &str) -> String {
    template
        .trim()
        .replace("{tenant}", tenant)
        .replace("{title}", title)
}

/// Checks a supervision notice number pattern: it must hold `{seq}` (the running number)
/// and may hold `{year}`; at most 40 characters.
pub fn check_notice_pattern(pattern: &str) -> Result<(), String> {
    let pattern = pattern.trim();
    if pattern.is_empty() || pattern.chars().count() > 40 {
        return Err("督办单编号格式应为 1 至 40 个字".to_owned());
    }
    if !pattern.contains("{seq}") {
        return Err("督办单编号格式须包含 {seq}（顺序号）".to_owned());
    }
    let rest = pattern.replace("{seq}", "").replace("{year}", "");
    if rest.contains('{') || rest.contains('}') {
        return Err("督办单编号格式只能使用 {year} 和 {seq} 两个占位符".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn addresses_mail_relays_accept_and_the_ones_they_do_not() {
        for good in [
            "zhangsan@example.gov.cn",
            "li.si+duban@Huaiyin.GOV.cn",
            "a@b.cn",
        ] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
        assert_eq!(
            Email::parse(" Wang@Example.CN ").unwrap().as_str(),
            "Wang@example.cn"
        );
        for bad in [
            "",
            "zhangsan",
            "zhangsan@",
            "@example.cn",
            "zhang san@example.cn",
            "zhangsan@example",
            "zhangsan@@example.cn",
            "张三@example.cn",
            ".zs@example.cn",
            "zs@-example.cn",
            "zs@example.c0m",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError), "{bad}");
        }
        assert_eq!(
            Email::parse("zhangsan@example.gov.cn").unwrap().masked(),
            "z***@example.gov.cn"
        );
        assert!(!format!("{:?}", Email::parse("zhangsan@x.cn").unwrap()).contains("zhangsan"));
    }

    #[test]
    fn preferences_need_the_address_of_each_channel_used() {
        let p = Preferences::parse(
            "zs@example.cn",
            "138 0013 8000",
            &codes(&["assigned", "notice"]),
            &codes(&["overdue"]),
        )
        .unwrap();
        assert_eq!(p.mobile.as_ref().unwrap().as_str(), "13800138000");
        assert_eq!(events_text(&p.email_events), ",assigned,notice,");
        assert_eq!(events_from_text(",assigned,notice,"), p.email_events);
        assert_eq!(
            Preferences::parse("", "", &codes(&["notice"]), &[])
                .unwrap_err()
                .field,
            "email"
        );
        assert_eq!(
            Preferences::parse("", "", &[], &codes(&["notice"]))
                .unwrap_err()
                .field,
            "mobile"
        );
        // a fixed line cannot receive SMS
        assert_eq!(
            Preferences::parse("", "0531-88886666", &[], &[])
                .unwrap_err()
                .field,
            "mobile"
        );
        assert_eq!(
            Preferences::parse("zs@example.cn", "", &codes(&["lunch"]), &[])
                .unwrap_err()
                .field,
            "email_events"
        );
        assert_eq!(
            Preferences::parse("", "", &[], &[]).unwrap(),
            Preferences::default()
        );
    }

    #[test]
    fn gateway_settings() {
        assert_eq!(SmsGateway::parse(""), Ok(SmsGateway::Off));
        assert_eq!(SmsGateway::parse("log"), Ok(SmsGateway::Log));
        assert_eq!(
            SmsGateway::parse("http://10.0.0.8:9000/sms/send"),
            Ok(SmsGateway::Http("http://10.0.0.8:9000/sms/send".into()))
        );
        for bad in [
            "https://sms.example.cn/send",
            "ftp://x",
            "http://",
            "http://a b/",
            "短信",
        ] {
            assert_eq!(SmsGateway::parse(bad), Err(GATEWAY_ERROR), "{bad}");
        }
    }

    #[test]
    fn templates_and_patterns() {
        assert!(check_sms_template(DEFAULT_SMS_TEMPLATE).is_ok());
        assert!(check_sms_template("请处理").is_err());
        assert!(check_sms_template("{title}{phone}").is_err());
        assert!(check_sms_template(&"字".repeat(121)).is_err());
        assert_eq!(
            render_sms(DEFAULT_SMS_TEMPLATE, "槐荫区", "督查任务已超期"),
            "【槐荫区】督查任务已超期。请登录营商环境优化平台处理。"
        );
        assert!(check_notice_pattern("槐营商督〔{year}〕{seq}号").is_ok());
        assert!(check_notice_pattern("槐营商督〔{year}〕号").is_err());
        assert!(check_notice_pattern("{seq}{month}").is_err());
        assert!(check_notice_pattern("").is_err());
    }
}
