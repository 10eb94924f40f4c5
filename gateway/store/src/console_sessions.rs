//! Console sessions: a password sign-in remembered by the hash of the token
//! its browser holds, with the CSRF token its forms carry.
//!
//! **Invariant:** a session authenticates only while it is unexpired and not
//! ended; changing an operator's password ends every session of theirs.

use super::schema::*;
use super::{Result, Storage, now_ms};
use diesel::prelude::*;
use outfit_domain::ids::OperatorId;

/// A live session as the console needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    pub operator: OperatorId,
    pub name: String,
    pub csrf: String,
    /// Unix ms.
    pub expires_at: i64,
}

impl Storage {
    /// Records a session of `operator` for the token whose sha256 is `token_sha256`.
    pub fn open_console_session(
        &self,
        operator: OperatorId,
        token_sha256: &str,
        csrf: &str,
        expires_at: i64,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        diesel::insert_into(console_sessions::table)
            .values((
                console_sessions::token_sha256.eq(token_sha256),
                console_sessions::operator_id.eq(operator.0),
                console_sessions::csrf.eq(csrf),
                console_sessions::created_at.eq(now_ms()),
                console_sessions::expires_at.eq(expires_at),
            ))
            .execute(&mut *conn)?;
        Ok(())
    }

    /// The live session of a token, if any.
    pub fn console_session(&self, token_sha256: &str) -> Result<Option<LiveSession>> {
        let mut conn = self.conn()?;
        let row: Option<(i64, String, String, i64)> = console_sessions::table
            .inner_join(operators::table)
            .filter(console_sessions::token_sha256.eq(token_sha256))
            .filter(console_sessions::ended_at.is_null())
            .filter(console_sessions::expires_at.gt(now_ms()))
            .select((operators::id, operators::name, console_sessions::csrf, console_sessions::expires_at))
            .first(&mut *conn)
            .optional()?;
        Ok(row.map(|(id, name, csrf, expires_at)| LiveSession { operator: OperatorId(id), name, csrf, expires_at }))
    }

    /// Ends the session of a token; returns whether it was live.
    pub fn end_console_session(&self, token_sha256: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let ended = diesel::update(
            console_sessions::table
                .filter(console_sessions::token_sha256.eq(token_sha256))
                .filter(console_sessions::ended_at.is_null()),
        )
        .set(console_sessions::ended_at.eq(now_ms()))
        .execute(&mut *conn)?;
        Ok(ended > 0)
    }

    /// Ends every session of operator `name`; returns how many were live.
    pub fn end_console_sessions_of(&self, name: &str) -> Result<usize> {
        let mut conn = self.conn()?;
        let operator = operators::table.filter(operators::name.eq(name)).select(operators::id);
        Ok(diesel::update(
            console_sessions::table
                .filter(console_sessions::operator_id.eq_any(operator))
                .filter(console_sessions::ended_at.is_null())
                .filter(console_sessions::expires_at.gt(now_ms())),
        )
        .set(console_sessions::ended_at.eq(now_ms()))
        .execute(&mut *conn)?)
    }
}
