//! The two databases behind [`super::State`]: an SQLite file (the default)
//! and a PostgreSQL server shared by several processes.
//!
//! The state's statements are written once, in the SQL both understand
//! (`?N` parameters, `ON CONFLICT`, `RETURNING`, `IS NOT DISTINCT FROM`);
//! for PostgreSQL the parameters are renumbered `$N`. Values cross as
//! [`Value`]s and rows come back as [`Row`]s, so nothing above this file
//! knows which database it talks to.
//!
//! A PostgreSQL connection lives on a thread of its own: the client blocks,
//! and the pass calls the state from async code, where a blocking client
//! may not start its own runtime. Each call is a message to that thread and
//! a wait for its answer, as a call into SQLite waits for the disk.

use std::collections::HashMap;
use std::sync::mpsc;

use anyhow::{Context, Result, anyhow, bail};
use postgres_types::{IsNull, ToSql, Type, to_sql_checked};

/// A value bound to, or read from, a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// The parameters of a statement, each converted to a [`Value`].
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::state::db::Value::from($v)),*] };
}
pub(crate) use args;

/// One row of a result.
#[derive(Debug, Clone, Default)]
pub struct Row(Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> &Value {
        self.0.get(i).unwrap_or(&Value::Null)
    }

    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }

    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.at(i) {
            Value::Text(s) => Some(s.clone()),
            Value::Int(n) => Some(n.to_string()),
            Value::Real(x) => Some(x.to_string()),
            Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
        }
    }

    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }

    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.at(i) {
            Value::Int(n) => Some(*n),
            Value::Real(x) => Some(*x as i64),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Text(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn real(&self, i: usize) -> f64 {
        match self.at(i) {
            Value::Real(x) => *x,
            Value::Int(n) => *n as f64,
            _ => 0.0,
        }
    }

    pub fn bool(&self, i: usize) -> bool {
        self.opt_int(i).is_some_and(|n| n != 0)
    }

    pub fn blob(&self, i: usize) -> Option<Vec<u8>> {
        match self.at(i) {
            Value::Blob(b) => Some(b.clone()),
            Value::Text(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Real(x) => ValueRef::Real(*x),
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // the server says what it expects; a value of a near type is
        // converted, as SQLite would store it
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::FLOAT8 => (*n as f64).to_sql(ty, out),
            Value::Int(n) if *ty == Type::BOOL => (*n != 0).to_sql(ty, out),
            Value::Int(n) if *ty == Type::TEXT || *ty == Type::VARCHAR => {
                n.to_string().to_sql(ty, out)
            }
            Value::Int(n) => n.to_sql(ty, out),
            Value::Real(x) if *ty == Type::FLOAT4 => (*x as f32).to_sql(ty, out),
            Value::Real(x) => x.to_sql(ty, out),
            Value::Bool(b) if *ty == Type::INT8 => i64::from(*b).to_sql(ty, out),
            Value::Bool(b) if *ty == Type::INT4 => i32::from(*b).to_sql(ty, out),
            Value::Bool(b) => b.to_sql(ty, out),
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) if *ty == Type::BYTEA => b.as_slice().to_sql(ty, out),
            Value::Blob(b) => String::from_utf8_lossy(b).as_ref().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `?N` parameters as PostgreSQL numbers them (`$N`); a `?` inside a
/// quoted literal is left alone.
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

type Job = Box<dyn FnOnce(&mut postgres::Client, &mut HashMap<String, postgres::Statement>) + Send>;

/// A PostgreSQL connection on its own thread.
pub struct Pg {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Pg {
    /// Connects (`url` as libpq takes it; `password` when not in it).
    pub fn connect(url: &str, password: Option<&str>) -> Result<Pg> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| anyhow!("state.url: not a PostgreSQL address: {e}"))?;
        if let Some(p) = password {
            config.password(p);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        config.application_name("stancewatch");
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<()>>(1);
        let (jobs, rx) = mpsc::channel::<Job>();
        let where_to = redact(url);
        let thread = std::thread::Builder::new()
            .name("postgres".into())
            .spawn(move || {
                let mut client = match config.connect(postgres::NoTls) {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow!("{where_to}: cannot connect: {e}")));
                        return;
                    }
                };
                let mut prepared = HashMap::new();
                while let Ok(job) = rx.recv() {
                    job(&mut client, &mut prepared);
                }
            })
            .context("cannot start the database thread")?;
        ready_rx
            .recv()
            .map_err(|_| anyhow!("the database thread ended"))??;
        Ok(Pg {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client, &mut HashMap<String, postgres::Statement>) -> Result<R>
        + Send
        + 'static,
    ) -> Result<R> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.jobs
            .as_ref()
            .ok_or_else(|| anyhow!("the database connection is closed"))?
            .send(Box::new(move |c, p| {
                let _ = tx.send(f(c, p));
            }))
            .map_err(|_| anyhow!("the database connection is closed"))?;
        rx.recv()
            .map_err(|_| anyhow!("the database connection ended"))?
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        // the thread ends with its queue, closing the connection there
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The address without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn pg_value(row: &postgres::Row, i: usize) -> Result<Value> {
    let ty = row.columns()[i].type_().clone();
    Ok(if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int)
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |n| Value::Int(n.into()))
    } else if ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |n| Value::Int(n.into()))
    } else if ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?
            .map_or(Value::Null, Value::Real)
    } else if ty == Type::FLOAT4 {
        row.try_get::<_, Option<f32>>(i)?
            .map_or(Value::Null, |x| Value::Real(x.into()))
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, Value::Bool)
    } else if ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i)?
            .map_or(Value::Null, Value::Blob)
    } else {
        row.try_get::<_, Option<String>>(i)
            .with_context(|| format!("column {i} is of type {ty}, which the state does not read"))?
            .map_or(Value::Null, Value::Text)
    })
}

/// Where the state is kept.
pub enum Db {
    Sqlite(rusqlite::Connection),
    Postgres { pg: Pg, in_tx: bool },
}

impl Db {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres { .. })
    }

    /// Runs a statement; the number of rows it changed.
    pub fn exec(&self, sql: &str, args: Vec<Value>) -> Result<usize> {
        match self {
            Db::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args.iter()))?),
            Db::Postgres { pg, .. } => {
                let sql = to_postgres(sql);
                pg.call(move |c, prepared| {
                    let st = statement(c, prepared, &sql)?;
                    Ok(c.execute(&st, &refs(&args))
                        .with_context(|| first_line(&sql))? as usize)
                })
            }
        }
    }

    /// Runs a query; its rows.
    pub fn query(&self, sql: &str, args: Vec<Value>) -> Result<Vec<Row>> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(args.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut v = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef;
                        v.push(match r.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(n) => Value::Int(n),
                            ValueRef::Real(x) => Value::Real(x),
                            ValueRef::Text(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        });
                    }
                    out.push(Row(v));
                }
                Ok(out)
            }
            Db::Postgres { pg, .. } => {
                let sql = to_postgres(sql);
                pg.call(move |c, prepared| {
                    let st = statement(c, prepared, &sql)?;
                    let rows = c
                        .query(&st, &refs(&args))
                        .with_context(|| first_line(&sql))?;
                    rows.iter()
                        .map(|r| {
                            (0..r.len())
                                .map(|i| pg_value(r, i))
                                .collect::<Result<Vec<_>>>()
                                .map(Row)
                        })
                        .collect()
                })
            }
        }
    }

    /// The first row of a query, if any.
    pub fn row(&self, sql: &str, args: Vec<Value>) -> Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The first row of a query that always gives one.
    pub fn one(&self, sql: &str, args: Vec<Value>) -> Result<Row> {
        self.row(sql, args)?
            .ok_or_else(|| anyhow!("no row from: {}", first_line(sql)))
    }

    /// Statements without parameters, separated by semicolons.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres { pg, .. } => {
                let sql = sql.to_string();
                pg.call(move |c, _| Ok(c.batch_execute(&sql)?))
            }
        }
    }

    pub fn in_transaction(&self) -> bool {
        match self {
            Db::Sqlite(c) => !c.is_autocommit(),
            Db::Postgres { in_tx, .. } => *in_tx,
        }
    }

    /// Opens a transaction that writes (SQLite takes its write lock now).
    pub fn begin(&mut self) -> Result<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch("BEGIN IMMEDIATE")?),
            Db::Postgres { pg, in_tx } => {
                pg.call(|c, _| Ok(c.batch_execute("BEGIN")?))?;
                *in_tx = true;
                Ok(())
            }
        }
    }

    pub fn commit(&mut self) -> Result<()> {
        self.end("COMMIT")
    }

    pub fn rollback(&mut self) -> Result<()> {
        self.end("ROLLBACK")
    }

    fn end(&mut self, how: &'static str) -> Result<()> {
        if !self.in_transaction() {
            return Ok(());
        }
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(how)?),
            Db::Postgres { pg, in_tx } => {
                *in_tx = false;
                pg.call(move |c, _| Ok(c.batch_execute(how)?))
            }
        }
    }

    /// Runs `f` in a transaction of its own, or in the one already open
    /// (which then commits or rolls back as a whole).
    pub fn atomically<R>(&mut self, f: impl FnOnce(&Db) -> Result<R>) -> Result<R> {
        if self.in_transaction() {
            return f(self);
        }
        self.begin()?;
        match f(self) {
            Ok(r) => {
                self.commit()?;
                Ok(r)
            }
            Err(e) => {
                if let Err(r) = self.rollback() {
                    bail!("{e:#} (and the rollback failed: {r:#})");
                }
                Err(e)
            }
        }
    }
}

fn statement(
    c: &mut postgres::Client,
    prepared: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement> {
    if let Some(s) = prepared.get(sql) {
        return Ok(s.clone());
    }
    let s = c.prepare(sql).with_context(|| first_line(sql))?;
    if prepared.len() < 64 {
        prepared.insert(sql.to_string(), s.clone());
    }
    Ok(s)
}

/// The parameters as the client takes them.
fn refs(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

fn first_line(sql: &str) -> String {
    sql.trim().lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_outside_literals() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d IS NOT DISTINCT FROM ?2"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d IS NOT DISTINCT FROM $2"
        );
    }

    #[test]
    fn a_row_reads_what_either_database_returns() {
        let r = Row(vec![
            Value::Int(1),
            Value::Bool(true),
            Value::Null,
            Value::Text("x".into()),
        ]);
        assert!(r.bool(0) && r.bool(1));
        assert_eq!(r.opt_text(2), None);
        assert_eq!(r.text(3), "x");
        assert_eq!(r.opt_int(2), None);
    }
}
