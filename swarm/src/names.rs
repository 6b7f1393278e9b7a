//! Names of the enums that events, findings and reports write as text.

/// Gives a fieldless enum the name its serialised form uses: `name()`, `Display`, and a
/// comparison with that name (so a reader or a test can say `phase == "plan"`).
#[macro_export]
macro_rules! named {
    ($kind:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $kind {
            /// Its serialised name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }
        impl std::fmt::Display for $kind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
        impl PartialEq<str> for $kind {
            fn eq(&self, other: &str) -> bool {
                self.name() == other
            }
        }
        impl PartialEq<&str> for $kind {
            fn eq(&self, other: &&str) -> bool {
                self.name() == *other
            }
        }
    };
}
