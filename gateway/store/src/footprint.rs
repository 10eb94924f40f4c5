//! What the database holds, table by table, for `outfit-gateway bench`: exact
//! row counts and the bytes each table (with its indexes) takes on disk, so a
//! run reports rows and bytes per agent.

use super::{DbConnection, Result, Storage};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

/// One table's rows and bytes (`None`: the backend does not say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSize {
    pub table: String,
    pub rows: i64,
    pub bytes: Option<i64>,
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    bytes: Option<i64>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Storage {
    /// Every table of the schema with its rows and bytes, largest first.
    /// On MariaDB the statistics are refreshed first (`ANALYZE TABLE`); on
    /// SQLite bytes come from `dbstat` where the library has it.
    pub fn table_sizes(&self) -> Result<Vec<TableSize>> {
        let mut conn = self.conn()?;
        let named: Vec<Named> = match &mut *conn {
            DbConnection::Mysql(c) => {
                let tables: Vec<Named> = diesel::sql_query(
                    "SELECT CAST(table_name AS CHAR) AS name, NULL AS bytes FROM information_schema.tables \
                     WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
                )
                .load(c)?;
                let list = tables.iter().map(|t| format!("`{}`", t.name)).collect::<Vec<_>>().join(", ");
                diesel::sql_query(format!("ANALYZE TABLE {list}")).execute(c)?;
                diesel::sql_query(
                    "SELECT CAST(table_name AS CHAR) AS name, CAST(data_length + index_length AS SIGNED) AS bytes \
                     FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
                )
                .load(c)?
            }
            DbConnection::Sqlite(c) => {
                let sized: QueryResult<Vec<Named>> = diesel::sql_query(
                    "SELECT m.name AS name, (SELECT SUM(pgsize) FROM dbstat d WHERE d.name = m.name \
                     OR d.name IN (SELECT i.name FROM sqlite_master i WHERE i.tbl_name = m.name)) AS bytes \
                     FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
                )
                .load(c);
                match sized {
                    Ok(sized) => sized,
                    Err(_) => diesel::sql_query(
                        "SELECT name, NULL AS bytes FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                    )
                    .load(c)?,
                }
            }
        };
        let mut sizes = Vec::with_capacity(named.len());
        for table in named {
            let count = format!("SELECT COUNT(*) AS n FROM {}", table.name);
            let n = match &mut *conn {
                DbConnection::Mysql(c) => diesel::sql_query(count).get_result::<Count>(c)?.n,
                DbConnection::Sqlite(c) => diesel::sql_query(count).get_result::<Count>(c)?.n,
            };
            sizes.push(TableSize { table: table.name, rows: n, bytes: table.bytes });
        }
        sizes.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(b.rows.cmp(&a.rows)));
        Ok(sizes)
    }
}
