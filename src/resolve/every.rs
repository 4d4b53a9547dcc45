//! Every profile's chain at once, for listings (`mfa list`): what
//! [`try_resolve`](super::try_resolve) gives each profile, without walking
//! each chain from scratch. A profile followed as a source leads to the
//! same tail whoever chose it, so each profile is followed as a source
//! once, and a chain is the chosen profile's own step on top of its
//! source's tail: listing costs about the same whatever the chains' shapes
//! (one long chain, branches on a shared tail, a loop).

use std::rc::Rc;

use super::{Link, MAX_CHAIN, Root, SESSION_SECONDS, StepRef, check_duration, link, parse_seconds};
use crate::config::{Profile, Profiles};

/// A chain's roles from the top (the one assumed last) down, shared by
/// every chain that ends on the same tail.
#[derive(Debug)]
pub struct Roles<'a> {
    pub step: StepRef<'a>,
    pub below: Option<Rc<Roles<'a>>>,
}

/// What a listing needs of a profile's chain.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    pub root: Rc<Root>,
    /// The nearest `mfa_serial` on the chain, starting at the chosen profile.
    pub mfa_serial: Option<&'a str>,
    /// `None` when the chain assumes no role.
    pub roles: Option<Rc<Roles<'a>>>,
}

/// A setting that applies from the nearest profile of the chain that sets
/// it: `Err` when that profile's value is not usable (then the chain does
/// not resolve, as [`walk`](super::walk) refuses it).
type Nearest<T> = Result<Option<T>, ()>;

fn nearer<T>(own: Nearest<T>, below: &Nearest<T>) -> Nearest<T>
where
    T: Clone,
{
    match own {
        Ok(None) => below.clone(),
        own => own,
    }
}

/// The settings a profile gives its chain unless a profile above it on
/// the chain sets them first: checked as `walk` checks them.
#[derive(Clone)]
struct Settings<'a> {
    mfa_serial: Nearest<&'a str>,
    mfa_process: Nearest<()>,
    session_duration: Nearest<()>,
}

impl<'a> Settings<'a> {
    fn own(profile: &'a Profile) -> Settings<'a> {
        let session_duration = match parse_seconds(profile, "mfa_session_duration") {
            Ok(Some(seconds)) => check_duration("", seconds, SESSION_SECONDS)
                .map(Some)
                .map_err(drop),
            Ok(None) => Ok(None),
            Err(_) => Err(()),
        };
        Settings {
            mfa_serial: profile.scalar("mfa_serial").map_err(drop),
            mfa_process: profile
                .scalar("mfa_process")
                .map(|s| s.map(drop))
                .map_err(drop),
            session_duration: session_duration.map(|s| s.map(drop)),
        }
    }

    fn over(self, below: &Settings<'a>) -> Settings<'a> {
        Settings {
            mfa_serial: nearer(self.mfa_serial, &below.mfa_serial),
            mfa_process: nearer(self.mfa_process, &below.mfa_process),
            session_duration: nearer(self.session_duration, &below.session_duration),
        }
    }

    fn usable(&self) -> bool {
        self.mfa_serial.is_ok() && self.mfa_process.is_ok() && self.session_duration.is_ok()
    }
}

/// The chain from a profile followed as a source, down to its root.
struct Tail<'a> {
    /// Profiles on it, this one included.
    len: usize,
    root: Rc<Root>,
    settings: Settings<'a>,
    roles: Option<Rc<Roles<'a>>>,
}

enum State<'a> {
    Unvisited,
    /// Being followed: met again, the sources loop.
    Following,
    /// `None`: no chain through this profile resolves (a loop, more than
    /// [`MAX_CHAIN`] profiles, a missing source, an unusable value).
    Done(Option<Rc<Tail<'a>>>),
}

/// Resolves the profiles of `profiles`, each source followed once.
pub struct EveryChain<'a> {
    profiles: &'a Profiles,
    tails: Vec<State<'a>>,
}

impl<'a> EveryChain<'a> {
    pub fn new(profiles: &'a Profiles) -> EveryChain<'a> {
        EveryChain {
            profiles,
            tails: profiles.list.iter().map(|_| State::Unvisited).collect(),
        }
    }

    /// The chain of the chosen profile `index` (of `profiles.list`), as
    /// `try_resolve` would give it: `None` when it does not resolve.
    pub fn resolve(&mut self, index: usize) -> Option<Resolved<'a>> {
        let chosen = self.profiles.list.get(index)?;
        #[cfg(test)]
        super::WORK.with(|w| w.set(w.get() + 1));
        let own = Settings::own(chosen);
        super::region(self.profiles, chosen).ok()?;
        let (settings, root, roles) = match link(self.profiles, chosen, true).ok()? {
            Link::NoCredentials => return None,
            Link::Root(root) => (own, Rc::new(root), None),
            Link::OwnSource { step, root } => {
                let roles = Rc::new(Roles { step, below: None });
                (own, Rc::new(root), Some(roles))
            }
            Link::Role { step, source } => {
                let tail = self.tail(self.profiles.position(&source.name)?)?;
                // The chosen profile met again on the way is a loop (as a
                // source it could only end the chain: one that goes on
                // comes back to its own source, a loop the tail refused).
                if tail.len + 1 > MAX_CHAIN || tail.root.profile() == chosen.name {
                    return None;
                }
                let roles = Rc::new(Roles {
                    step,
                    below: tail.roles.clone(),
                });
                (own.over(&tail.settings), tail.root.clone(), Some(roles))
            }
        };
        if !settings.usable() {
            return None;
        }
        Some(Resolved {
            root,
            mfa_serial: settings.mfa_serial.ok().flatten(),
            roles,
        })
    }

    /// The tail from profile `start` followed as a source. Sources are
    /// followed in a loop, not by recursion (a chain may be 100,000
    /// profiles long), down to a tail already known, a root, or a loop;
    /// then the tails are built from the bottom up.
    fn tail(&mut self, start: usize) -> Option<Rc<Tail<'a>>> {
        let profiles = self.profiles;
        // The profiles followed, each with its settings and its link.
        let mut path: Vec<(usize, Settings<'a>, Option<Link<'a>>)> = Vec::new();
        let mut current = start;
        let mut bottom: Option<Rc<Tail<'a>>> = loop {
            match &self.tails[current] {
                State::Done(tail) => break tail.clone(),
                State::Following => break None,
                State::Unvisited => {}
            }
            self.tails[current] = State::Following;
            #[cfg(test)]
            super::WORK.with(|w| w.set(w.get() + 1));
            let profile = &profiles.list[current];
            let link = link(profiles, profile, false).ok();
            let next = match &link {
                Some(Link::Role { source, .. }) => profiles.position(&source.name),
                _ => None,
            };
            path.push((current, Settings::own(profile), link));
            match next {
                Some(next) => current = next,
                None => break None,
            }
        };
        while let Some((index, settings, link)) = path.pop() {
            let tail = match link {
                Some(Link::Root(root)) => Some(Rc::new(Tail {
                    len: 1,
                    root: Rc::new(root),
                    settings,
                    roles: None,
                })),
                Some(Link::Role { step, .. }) => bottom.as_ref().and_then(|below| {
                    (below.len < MAX_CHAIN).then(|| {
                        Rc::new(Tail {
                            len: below.len + 1,
                            root: below.root.clone(),
                            settings: settings.over(&below.settings),
                            roles: Some(Rc::new(Roles {
                                step,
                                below: below.roles.clone(),
                            })),
                        })
                    })
                }),
                // Only the chosen profile's role can use its own keys.
                Some(Link::NoCredentials | Link::OwnSource { .. }) | None => None,
            };
            self.tails[index] = State::Done(tail.clone());
            bottom = tail;
        }
        bottom
    }
}
