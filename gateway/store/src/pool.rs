//! How the pool opens connections: with the backend the URL names. diesel's
//! own manager tries every backend of the multi-connection in turn and, when
//! all fail, reports only "Invalid connection url for multiconnection": what
//! the gateway logged for every connection attempt while its MariaDB node was
//! down. This one reports the server's words ("Can't connect to server on …").

use super::DbConnection;
use diesel::Connection as _;
use diesel::r2d2::{Error, ManageConnection, R2D2Connection};

/// A connection to `url`: `mysql://…`, or else a SQLite file path.
pub(crate) fn establish(url: &str) -> diesel::ConnectionResult<DbConnection> {
    if url.starts_with("mysql://") {
        diesel::mysql::MysqlConnection::establish(url).map(DbConnection::Mysql)
    } else {
        diesel::sqlite::SqliteConnection::establish(url).map(DbConnection::Sqlite)
    }
}

#[derive(Debug)]
pub(crate) struct Backend {
    url: String,
}

impl Backend {
    pub(crate) fn new(url: &str) -> Self {
        Self { url: url.to_owned() }
    }
}

impl ManageConnection for Backend {
    type Connection = DbConnection;
    type Error = Error;

    fn connect(&self) -> Result<DbConnection, Error> {
        establish(&self.url).map_err(Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Error> {
        conn.ping().map_err(Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_connection_says_why() {
        // Port 1 on loopback: nothing listens there.
        let error = |url: &str| Backend::new(url).connect().err().expect("no connection").to_string();
        let refused = error("mysql://root@127.0.0.1:1/outfit");
        assert!(refused.contains("Can't connect"), "{refused}");
        let missing = error("/nonexistent-dir/outfit.sqlite");
        assert!(missing.contains("Unable to open the database file"), "{missing}");
    }
}
