//! The typed rules vocabulary: every switch of `Rules` has one name, one table entry and a
//! citation; rules columns parse and print in one canonical form.

use std::collections::BTreeSet;

use drm::rules::{ColumnError, Extra};
use drm::{Release, Rules, RulesColumn, Switch};

/// `Switch::set` turns on exactly the field of its name (read from the Debug form, which
/// the compiler writes from the field names).
#[test]
fn each_switch_is_the_field_of_its_name() {
    let mut seen = BTreeSet::new();
    for s in Switch::ALL {
        let mut r = Rules::default();
        r.set(s, true);
        assert!(r.get(s));
        let d = format!("{r:?}");
        let on: Vec<&str> = d
            .split([',', '{', '}'])
            .map(str::trim)
            .filter(|f| f.ends_with(": true"))
            .collect();
        assert_eq!(on, [format!("{s}: true")], "{s:?}");
        r.set(s, false);
        assert_eq!(r, Rules::default(), "{s:?}");
        assert_eq!(s.to_string().parse::<Switch>(), Ok(s));
        assert!(seen.insert(s.name()), "{s} twice");
    }
    // Every field is some switch: the Debug form lists as many fields as there are switches.
    let fields = format!("{:?}", Rules::default()).matches(": false").count();
    assert_eq!(fields, Switch::ALL.len());
}

/// Every switch cites the upstream change it models (a quoted commit title or a section of
/// upstream.md), and a proposal says so.
#[test]
fn each_switch_has_a_citation() {
    for s in Switch::ALL {
        let doc = s.doc();
        assert!(doc.contains('"') || doc.contains('§'), "{s}: {doc}");
        assert_eq!(
            s.is_proposal(),
            doc.trim_start().starts_with("Proposal"),
            "{s}"
        );
        if let (Some(a), Some(b)) = (s.since(), s.until()) {
            assert!(a < b, "{s} is dropped before it is introduced");
        }
    }
}

/// The proposals under review: the four patches upstream.md §1.2 lists as "Not merged" or
/// §6.14/§8.3 propose (written out here, independently of the table).
#[test]
fn the_proposals_are_four() {
    let got: Vec<String> = Switch::proposals().map(|s| s.to_string()).collect();
    assert_eq!(
        got,
        [
            "panel_bridge_panel_ref",
            "core_enter_exit",
            "disable_pipeline_on_unplug",
            "private_obj_fini_locking"
        ]
    );
    let col: RulesColumn = "v7.2+proposals".parse().unwrap();
    let r = col.rules();
    assert!(Switch::proposals().all(|s| r.get(s)));
    assert_eq!(col.switches().count(), 4);
}

/// Every release in the table brings a change (a release without rules is a table entry
/// missing its switches), and the first one is the baseline.
#[test]
fn every_release_changes_something() {
    for w in Release::ALL.windows(2) {
        assert_ne!(
            Rules::for_release(w[0]),
            Rules::for_release(w[1]),
            "{} changes nothing",
            w[1]
        );
    }
    assert_eq!(Release::LATEST, *Release::ALL.last().unwrap());
}

/// Columns print in one canonical form, so `6.15` and `v6.15` are the same column.
#[test]
fn columns_parse_and_print_canonically() {
    for (input, shown) in [
        ("6.15", "v6.15"),
        ("v6.15", "v6.15"),
        (" v7.2+proposals ", "v7.2+proposals"),
        (
            "v6.20+panel_bridge_panel_ref",
            "v7.0+panel_bridge_panel_ref",
        ),
        (
            "7.1+core_enter_exit+chain_mutex",
            "v7.1+core_enter_exit+chain_mutex",
        ),
    ] {
        let c: RulesColumn = input.parse().unwrap();
        assert_eq!(c.to_string(), shown);
        assert_eq!(c.to_string().parse::<RulesColumn>(), Ok(c));
    }
    let c: RulesColumn = "v7.0+panel_bridge_panel_ref".parse().unwrap();
    assert_eq!(c.release(), Release::V7_0);
    assert_eq!(
        c,
        RulesColumn::new(Release::V7_0).with(Extra::Switch(Switch::PanelBridgePanelRef))
    );
    let r = c.rules();
    assert!(r.panel_bridge_panel_ref && !r.core_enter_exit && r.bridge_unplug && !r.chain_mutex);
    let all = RulesColumn::parse_list("all, v7.2+proposals").unwrap();
    assert_eq!(all.len(), Release::ALL.len() + 1);
}

/// A wrong switch or release is an error that lists what is valid.
#[test]
fn bad_columns_list_the_valid_names() {
    let e = "v7.2+panel_ref".parse::<RulesColumn>().unwrap_err();
    assert!(matches!(e, ColumnError::Switch(_)));
    let msg = e.to_string();
    assert!(msg.starts_with("unknown rule switch `panel_ref`"), "{msg}");
    assert!(msg.contains("`proposals`"), "{msg}");
    for s in Switch::ALL {
        assert!(msg.contains(s.name()), "{msg}");
    }
    let e = "v6.14+proposals".parse::<RulesColumn>().unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("unknown release `v6.14`"), "{msg}");
    for r in Release::ALL {
        assert!(msg.contains(r.name()), "{msg}");
    }
    assert!("nonsense".parse::<Switch>().is_err());
    assert!(RulesColumn::parse_list("all,v9.9").is_err());
}

/// The crate README lists the proposals and the releases of the table (it cannot derive
/// them, so this test keeps it true).
#[test]
fn the_readme_names_the_table() {
    let readme = include_str!("../README.md");
    let para = &readme[readme.find("- Proposals under review").unwrap()..];
    let para = &para[..para.find("\n- ").unwrap()];
    let listed: Vec<&str> = para
        .rsplit_once("table:")
        .unwrap()
        .1
        .split('`')
        .skip(1)
        .step_by(2)
        .collect();
    let want: Vec<&str> = Switch::proposals().map(Switch::name).collect();
    assert_eq!(listed, want);
    let first = Release::ALL[0];
    let range = format!("{first}…{}", Release::LATEST);
    assert!(readme.contains(&range), "README must say {range}");
}

/// Reference owners print as the strings reports and expectations have always used.
#[test]
fn ref_owners_print_their_kernel_style_names() {
    use drm::RefOwner;
    for (o, s) in [
        (RefOwner::Devres("2-002c".into()), "devres of 2-002c"),
        (RefOwner::Published, "published"),
        (RefOwner::Chain("encoder-0".into()), "chain of encoder-0"),
        (
            RefOwner::NextBridge("/soc/dsi@32e60000".into()),
            "next_bridge of /soc/dsi@32e60000",
        ),
        (RefOwner::BridgeConnector("edid"), "bridge_connector edid"),
        (
            RefOwner::PanelBridge("panel".into()),
            "panel_bridge of panel",
        ),
        (RefOwner::ScopedCursor, "scoped loop cursor"),
        (RefOwner::ModeConfig, "mode_config"),
        (RefOwner::DrmFile, "drm file"),
        (
            RefOwner::Caller("of_drm_find_bridge".into()),
            "of_drm_find_bridge",
        ),
        (
            RefOwner::Local("drm_mode_validate_pipeline"),
            "drm_mode_validate_pipeline",
        ),
    ] {
        assert_eq!(o.to_string(), s);
        let local = matches!(o, RefOwner::ScopedCursor | RefOwner::Local(_));
        let owner = kmodel::kref::Owner::from(o);
        assert_eq!(
            (owner.to_string(), owner.is_local()),
            (s.to_string(), local)
        );
    }
}

/// A superseded revision (no `since`, an `until`) is on in no release and not a proposal: only
/// a column that names it turns it on.
#[test]
fn a_superseded_revision_is_only_on_when_named() {
    let s = Switch::EncoderCleanupDetachLocked;
    assert!(s.is_superseded() && !s.is_proposal());
    assert!(s.doc().trim_start().starts_with("Superseded"), "{s}");
    for r in Release::ALL {
        assert!(!Rules::for_release(r).get(s), "{r}");
    }
    assert!(!"v7.2+proposals"
        .parse::<RulesColumn>()
        .unwrap()
        .rules()
        .get(s));
    let col: RulesColumn = "v7.2+encoder_cleanup_detach_locked".parse().unwrap();
    assert!(col.rules().get(s) && col.rules().chain_mutex);
    let superseded: Vec<&str> = Switch::ALL
        .into_iter()
        .filter(|s| s.is_superseded())
        .map(Switch::name)
        .collect();
    assert_eq!(
        superseded,
        ["hotplug_bridge", "encoder_cleanup_detach_locked"]
    );
}
