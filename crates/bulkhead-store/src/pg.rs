//! PostgreSQL backend: one database shared by a fleet. Every node's bulkhead records into it.

use crate::prune::{Planner, Prune, PruneReport, CHUNK};
use crate::record::{now_rfc3339, CheckRow, NewRun, RunFilter, RunSummary, RUN_COLUMNS};
use crate::{schema_known, unknown_schema, Result, Store, StoreError, SCHEMA_VERSION};
use postgres::{Client, NoTls};
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bulkhead_runs (
    id BIGSERIAL PRIMARY KEY,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    benchmark_version TEXT NOT NULL,
    numbering TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    score BIGINT NOT NULL,
    summary TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bulkhead_runs_host_kind ON bulkhead_runs (host, kind, id);
CREATE TABLE IF NOT EXISTS bulkhead_checks (
    run_id BIGINT NOT NULL REFERENCES bulkhead_runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS bulkhead_checks_control_status ON bulkhead_checks (control, status);
CREATE TABLE IF NOT EXISTS bulkhead_schema (
    version INTEGER NOT NULL,
    one_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one_row)
);
GRANT SELECT ON bulkhead_schema TO PUBLIC;
";

/// The store's schema version is a row of its own table, `bulkhead_schema`, rather than a
/// COMMENT ON TABLE. A comment is documentation: a DBA or a migration tool that describes the
/// table replaces it, the mark is silently lost, and a newer history would pass for version 1.
/// A row is data: created in the transaction that creates the tables, changed by a newer
/// bulkhead in the transaction that migrates them, dumped and restored with them. Its SELECT is
/// granted to PUBLIC (a version number is no secret), so the nodes and readers of a fleet need
/// no grant beyond those on the two tables of runs.
fn mark_schema() -> String {
    format!(
        "INSERT INTO bulkhead_schema (version) VALUES ({SCHEMA_VERSION}) ON CONFLICT DO NOTHING"
    )
}

/// Which of bulkhead's tables the database has: (bulkhead_runs, bulkhead_checks, bulkhead_schema).
/// to_regclass needs no privilege on the tables.
const TABLES: &str = "SELECT to_regclass('bulkhead_runs') IS NOT NULL, to_regclass('bulkhead_checks') IS NOT NULL, to_regclass('bulkhead_schema') IS NOT NULL";

/// The schema version marked in the store, None when it has no mark (a history recorded before
/// versions were, which is version 1, or no history at all).
fn marked_version<C: postgres::GenericClient>(
    client: &mut C,
    marked: bool,
) -> std::result::Result<Option<i64>, postgres::Error> {
    if !marked {
        return Ok(None);
    }
    let row = client.query_one("SELECT max(version) FROM bulkhead_schema", &[])?;
    Ok(row.get::<_, Option<i32>>(0).map(i64::from))
}

pub struct PgStore {
    client: Client,
    /// The connection string with any password removed, for messages.
    shown: String,
    /// The role connected as, for messages about its privileges.
    user: Option<String>,
    /// The connection string, to connect again (with the password, when it has one) when the
    /// connection opened before an audit's collection was lost while it waited for the run.
    url: String,
}

/// How a connection string is named in messages: rebuilt from what the driver parsed (hosts,
/// ports, user, database), so a password can never appear, wherever it was written (after the
/// user in a URL, as a `?password=` parameter, as `password = 'a b'` with quotes and spaces).
/// A string the driver cannot parse is not shown at all: there is no telling where its password
/// ends.
#[cfg(test)]
fn redact(url: &str) -> String {
    match url.parse::<postgres::Config>() {
        Ok(config) => {
            let password = config.get_password().is_some();
            named(url, &config, password)
        }
        Err(_) => NOT_SHOWN.into(),
    }
}

const NOT_SHOWN: &str =
    "(connection string not shown: it could not be parsed and may hold a password)";

/// The store as messages name it, from the parsed `config` (with what the libpq environment
/// added to it): hosts, ports, user and database, in the spelling of `url` (a URL, or key=value
/// pairs). `password` says whether the string itself carried one, shown as `***`; one taken from
/// PGPASSWORD or a password file is not mentioned.
fn named(url: &str, config: &postgres::Config, password: bool) -> String {
    let url_form = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            // In a URL a socket directory is percent-encoded (`%2Frun%2Fpostgresql`), as it
            // must be written there: shown raw, the name could not be pasted back as a --store.
            postgres::config::Host::Unix(path) if url_form => {
                percent_encoded(&path.display().to_string())
            }
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .chain(config.get_hostaddrs().iter().map(|a| a.to_string()))
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(|p| p.to_string()).collect();
    let user = config.get_user();
    let dbname = config.get_dbname();
    if let Some(scheme) = ["postgres://", "postgresql://"]
        .into_iter()
        .find(|s| url.starts_with(s))
    {
        let mut out = scheme.to_string();
        if let Some(u) = user {
            out.push_str(u);
            if password {
                out.push_str(":***");
            }
            out.push('@');
        }
        // The URL parser records one port per host, in order.
        let places: Vec<String> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| match ports.get(i).or(ports.first()) {
                Some(p) => format!("{h}:{p}"),
                None => h.clone(),
            })
            .collect();
        out.push_str(&places.join(","));
        if let Some(d) = dbname {
            out.push('/');
            out.push_str(d);
        }
        return out;
    }
    let mut parts = Vec::new();
    if !hosts.is_empty() {
        parts.push(format!("host={}", hosts.join(",")));
    }
    if !ports.is_empty() {
        parts.push(format!("port={}", ports.join(",")));
    }
    if let Some(u) = user {
        parts.push(format!("user={u}"));
    }
    if password {
        parts.push("password=***".into());
    }
    if let Some(d) = dbname {
        parts.push(format!("dbname={d}"));
    }
    parts.join(" ")
}

/// `text` with every byte but the unreserved ones of a URL (letters, digits, `-._~`)
/// written as %XX.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What libpq (psql, pg_dump, every libpq client) takes from the environment when the connection
/// string leaves it out, and the driver does not: PGHOST, PGPORT, PGUSER, PGDATABASE,
/// PGCONNECT_TIMEOUT and the password, from PGPASSWORD or else the password file (PGPASSFILE,
/// default ~/.pgpass). A fleet keeps its password out of the store URL (which shows in `ps`, in
/// shell history and in a DaemonSet's spec) this way; ignoring it fails such a node with
/// "password missing". `var` reads the environment. Returns notes for the messages, such as a
/// password file that was not used.
fn libpq_environment(
    config: &mut postgres::Config,
    var: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let set = |k: &str| var(k).filter(|v| !v.is_empty());
    let mut notes = Vec::new();
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        if let Some(hosts) = set("PGHOST") {
            for h in hosts.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                config.host(h);
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(ports) = set("PGPORT") {
            match ports
                .split(',')
                .map(|p| p.trim().parse::<u16>())
                .collect::<std::result::Result<Vec<_>, _>>()
            {
                Ok(ports) => ports.into_iter().for_each(|p| {
                    config.port(p);
                }),
                Err(_) => notes.push(format!(
                    "PGPORT={ports} is not a port number and was not used"
                )),
            }
        }
    }
    if config.get_user().is_none() {
        if let Some(user) = set("PGUSER") {
            config.user(&user);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(db) = set("PGDATABASE") {
            config.dbname(&db);
        }
    }
    if config.get_connect_timeout().is_none() {
        if let Some(secs) = set("PGCONNECT_TIMEOUT").and_then(|s| s.trim().parse::<u64>().ok()) {
            // libpq: zero (or a negative value) waits forever; less than 2 seconds is 2.
            if secs > 0 {
                config.connect_timeout(Duration::from_secs(secs.max(2)));
            }
        }
    }
    if config.get_password().is_none() {
        if let Some(password) = set("PGPASSWORD") {
            config.password(password);
        } else if let Some(password) = password_file(config, var, &mut notes) {
            config.password(password);
        }
    }
    notes
}

/// The password the libpq password file holds for this connection: PGPASSFILE, else
/// ~/.pgpass; lines `host:port:database:user:password`, `*` matching anything, `\:` and `\\`
/// escaped. Like libpq, a file that others than its owner may read is not used (and a note says
/// so), and a Unix socket in the default directory matches `localhost`.
fn password_file(
    config: &postgres::Config,
    var: &dyn Fn(&str) -> Option<String>,
    notes: &mut Vec<String>,
) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let path = match var("PGPASSFILE").filter(|v| !v.is_empty()) {
        Some(p) => std::path::PathBuf::from(p),
        None => std::path::Path::new(&var("HOME").filter(|h| !h.is_empty())?).join(".pgpass"),
    };
    let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
    if meta.permissions().mode() & 0o077 != 0 {
        notes.push(format!(
            "the password file {} was not used: others than its owner may read it (chmod 0600 it, as libpq requires)",
            path.display()
        ));
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let host = match (config.get_hosts().first(), config.get_hostaddrs().first()) {
        (Some(postgres::config::Host::Tcp(h)), _) => h.clone(),
        (Some(postgres::config::Host::Unix(p)), _) => {
            if ["/var/run/postgresql", "/run/postgresql", "/tmp"]
                .iter()
                .any(|d| p == std::path::Path::new(d))
            {
                "localhost".into()
            } else {
                p.display().to_string()
            }
        }
        (None, Some(addr)) => addr.to_string(),
        (None, None) => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().map(String::from).or_else(os_user)?;
    let dbname = config
        .get_dbname()
        .map(String::from)
        .unwrap_or(user.clone());
    text.lines().find_map(|line| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') {
            return None;
        }
        let fields = pgpass_fields(line)?;
        let matches = |field: &str, value: &str| field == "*" || field == value;
        (matches(&fields[0], &host)
            && matches(&fields[1], &port)
            && matches(&fields[2], &dbname)
            && matches(&fields[3], &user))
        .then(|| fields[4].clone())
    })
}

/// The five fields of a password file line; the password is the rest of the line (colons and
/// all). None for a line with fewer fields.
fn pgpass_fields(line: &str) -> Option<[String; 5]> {
    let mut fields: Vec<String> = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("a field").push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("a field").push(c),
        }
    }
    fields.try_into().ok()
}

/// The name of the user this process runs as (libpq's default user).
fn os_user() -> Option<String> {
    // SAFETY: getpwuid returns a pointer to static storage or null; it is read at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_str()
            .ok()
            .map(String::from)
    }
}

/// How long a connection may take, per host, when neither the store URL (`connect_timeout`) nor
/// PGCONNECT_TIMEOUT says: libpq waits forever, and so did bulkhead, so a server (or a proxy, a
/// firewall) that accepts the connection and never answers held every audit of the fleet.
const CONNECT_WAIT: Duration = Duration::from_secs(30);

/// How long sent data may stay unacknowledged, and how soon an idle connection is probed, before
/// the connection is taken for dead: a server whose machine vanished mid-run (powered off, cut
/// off the network) sends no reset, and without these the recording waits for the kernel's
/// retransmissions (about 15 minutes) or, on a connection waiting for an answer, forever.
const DEAD_AFTER: Duration = Duration::from_secs(60);

/// How long a connection is tried again while the server has no connection slot free
/// (`max_connections`, or the role's CONNECTION LIMIT, reached) or is starting up. A fleet's
/// nodes audit on the same schedule (a nightly timer, a DaemonSet rolled out at once), each
/// holding a connection while it records: 200 nodes against a server of the default 100 slots
/// lost every audit past the hundredth at once ("sorry, too many clients already"), the audit
/// not even run. A slot is held only while a node records, so it is free again within seconds;
/// as long as an SQLite recording waits for the file's lock.
const SLOT_WAIT: Duration = Duration::from_secs(60);

/// Whether the server refused the connection for want of a free slot, or because it is
/// starting up or recovering: both pass, so the connection is worth trying again.
fn no_slot(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code()
        .is_some_and(|c| *c == SqlState::TOO_MANY_CONNECTIONS || *c == SqlState::CANNOT_CONNECT_NOW)
}

/// [`connect_within`], tried again for up to [`SLOT_WAIT`] while the server has no slot free
/// (or is starting up), after pauses that grow from a quarter of a second to five seconds,
/// each lengthened by up to half at random so that the nodes refused together do not all come
/// back together.
fn connect_when_a_slot_is_free(
    config: postgres::Config,
) -> std::result::Result<Client, (Option<postgres::Error>, Duration)> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match connect_within(config.clone()) {
            Err((Some(e), waited)) if no_slot(&e) => {
                let left = SLOT_WAIT.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err((Some(e), waited));
                }
                std::thread::sleep((pause + jitter(pause / 2)).min(left));
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// A duration between zero and `most`, different in each process and call.
fn jitter(most: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let nanos = most.as_nanos().max(1) as u64;
    Duration::from_nanos(h.finish() % nanos)
}

/// Connect, the whole connection (every host's socket, the startup, the authentication) bounded
/// by the configured timeout per host. The driver's own connect_timeout bounds only the socket:
/// a server that accepts and then says nothing would be waited on forever. Err(None) when the
/// time ran out.
fn connect_within(
    mut config: postgres::Config,
) -> std::result::Result<Client, (Option<postgres::Error>, Duration)> {
    let per_host = *config.get_connect_timeout().unwrap_or(&CONNECT_WAIT);
    config.connect_timeout(per_host);
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(DEAD_AFTER);
    }
    // The driver's default, two hours, means "not set".
    if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
        config.keepalives_idle(DEAD_AFTER / 2);
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(Duration::from_secs(10));
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(3);
        }
    }
    let hosts = (config.get_hosts().len() + config.get_hostaddrs().len()).max(1) as u32;
    let limit = per_host * hosts;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(config.connect(NoTls));
    });
    match rx.recv_timeout(limit) {
        Ok(connected) => connected.map_err(|e| (Some(e), limit)),
        // The connecting thread is left behind, blocked on a socket that the process's exit
        // closes.
        Err(_) => Err((None, limit)),
    }
}

/// The whole reason of a driver error. The driver's own message is only its category ("db
/// error", "error connecting to server"); what the server said (a wrong password, a database
/// that does not exist, a missing privilege) or what the socket said is in its source.
fn reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            s.push_str(&format!(" ({detail})"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

/// What to do about a driver error, by what went wrong.
fn advice(e: &postgres::Error) -> &'static str {
    use postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
            "check the user and password of the store URL, and the server's pg_hba.conf"
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => {
            "create the database first (`createdb NAME`), or name an existing one"
        }
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => {
            "grant the role what it needs: a reader SELECT on bulkhead_runs and bulkhead_checks, a node also INSERT on both and USAGE on bulkhead_runs_id_seq, a role that prunes (`bulkhead history --prune --apply`) SELECT and DELETE on both (bulkhead_schema, which holds the schema version, is readable by PUBLIC unless that was revoked); the tables are created when a role that may create them records the first run (see README, Run history and fleets)"
        }
        Some(c) if *c == SqlState::TOO_MANY_CONNECTIONS => {
            "the server has no connection free for this role: more nodes record at once than its max_connections (or the role's CONNECTION LIMIT) allows. Raise that limit, spread the nodes' audit schedules (RandomizedDelaySec= in the timer), or put a pooler (PgBouncer) in front of the server"
        }
        Some(c) if *c == SqlState::ADMIN_SHUTDOWN
            || *c == SqlState::CRASH_SHUTDOWN
            || *c == SqlState::CANNOT_CONNECT_NOW
            || *c == SqlState::CONNECTION_FAILURE =>
        {
            LOST
        }
        Some(_) => "see the server's log for more",
        // The driver does not expose the kind of a client-side error, only its message
        // ("error performing TLS handshake", "invalid configuration: password missing").
        None => {
            let text = reason(e);
            if text.contains("TLS") {
                "bulkhead connects without TLS: use sslmode=disable or prefer, through a local socket or a tunnel"
            } else if text.contains("password missing") {
                "the server asks for a password and none was given: put it in the password file (~/.pgpass, mode 0600, or the file PGPASSFILE names) or in PGPASSWORD, or in the store URL"
            } else if text.contains("host and hostaddr are missing") {
                "name the server: postgres://USER@HOST/DATABASE, postgres:host=/var/run/postgresql dbname=DATABASE for a local socket, or PGHOST"
            } else if text.contains("lookup address") {
                "check the host name of the store URL: it does not resolve from this host"
            } else if e.is_closed() || text.contains("connection closed") {
                LOST
            } else {
                "is the server running and listening there?"
            }
        }
    }
}

/// What to do about a driver error on a connection that was made: one that fails to carry
/// anything further (a broken pipe, a reset, an end of stream) was lost.
fn advice_connected(e: &postgres::Error) -> &'static str {
    if e.code().is_none()
        && (e.is_closed() || reason(e).starts_with("error communicating with the server"))
    {
        return LOST;
    }
    advice(e)
}

/// The connection was lost: the server stopped or restarted, or the network between failed.
const LOST: &str = "the connection to the server was lost (it was stopped or restarted, or the network failed): a run whose recording this interrupted is not recorded, as its transaction was not committed; run the audit again when the server is back, and check with `bulkhead history`";

/// The advisory lock that the first recordings into a database take turns on (the key is
/// "bulkhead" in ASCII; advisory locks are per database, so other databases are not held up).
const SCHEMA_LOCK: i64 = 0x6275_6c6b_6865_6164;

/// Create bulkhead's tables and mark their schema version, one node at a time. A fleet rolled
/// out at once against a new database has every node find no tables and create them together,
/// and PostgreSQL does not make that safe: concurrent `CREATE TABLE IF NOT EXISTS` of one name
/// fails in all but one session ("duplicate key value violates unique constraint
/// pg_type_typname_nsp_index"), losing those nodes' runs. Behind the lock, a node that waited
/// finds the tables made and leaves them alone, which also spares a role without CREATE the DDL
/// it may not run. The mark is read again behind the lock too: a newer bulkhead that created or
/// migrated the store meanwhile is not overwritten. Returns the version marked in the store
/// when this bulkhead does not know it (and then has created nothing).
fn create_schema(client: &mut Client) -> std::result::Result<Option<i64>, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))?;
    let row = tx.query_one(TABLES, &[])?;
    let (runs, checks, marked): (bool, bool, bool) = (row.get(0), row.get(1), row.get(2));
    let version = marked_version(&mut tx, marked)?;
    if let Some(v) = version.filter(|v| !schema_known(*v)) {
        return Ok(Some(v));
    }
    if !(runs && checks) {
        tx.batch_execute(SCHEMA)?;
        tx.batch_execute(&mark_schema())?;
    }
    tx.commit()?;
    Ok(None)
}

impl PgStore {
    /// Connect to record into the store: the tables are created when the database has none.
    pub fn connect(url: &str) -> Result<PgStore> {
        Self::connect_as(url, true)
    }

    /// Connect to read the store: nothing is created, and a database without the tables is
    /// refused, so that a mistyped database name is not mistaken for an empty history.
    pub fn connect_existing(url: &str) -> Result<PgStore> {
        Self::connect_as(url, false)
    }

    fn connect_as(url: &str, create: bool) -> Result<PgStore> {
        Self::connect_with_env(url, create, &|k| std::env::var(k).ok())
    }

    /// Connect, with `var` as the environment libpq reads (PGPASSWORD, PGHOST, ...).
    fn connect_with_env(
        url: &str,
        create: bool,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PgStore> {
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            StoreError(format!(
                "the PostgreSQL store {NOT_SHOWN} is not a valid connection string: {}; write it as postgres://USER@HOST:PORT/DATABASE or postgres:host=HOST user=USER dbname=DATABASE",
                reason(&e)
            ))
        })?;
        let in_url = config.get_password().is_some();
        let notes = libpq_environment(&mut config, var);
        let shown = named(url, &config, in_url);
        let user = config.get_user().map(String::from);
        let mut client = connect_when_a_slot_is_free(config).map_err(|(e, waited)| {
            let mut message = match e {
                Some(e) if no_slot(&e) => format!(
                    "cannot connect to PostgreSQL store {shown}: {} (bulkhead retried for {} seconds: {})",
                    reason(&e),
                    SLOT_WAIT.as_secs(),
                    advice(&e)
                ),
                Some(e) => format!(
                    "cannot connect to PostgreSQL store {shown}: {} ({})",
                    reason(&e),
                    advice(&e)
                ),
                None => format!(
                    "cannot connect to PostgreSQL store {shown}: no answer within {} seconds: something accepted the connection there but did not complete PostgreSQL's handshake (is it a PostgreSQL server, and not stopped or overloaded? connect_timeout=SECONDS in the store URL, or PGCONNECT_TIMEOUT, waits longer)",
                    waited.as_secs()
                ),
            };
            for note in &notes {
                message.push_str("; ");
                message.push_str(note);
            }
            StoreError(message)
        })?;
        // Create the tables only when they are missing: a fleet's nodes and readers connect as
        // roles that may insert or select but not create (PostgreSQL 15 and later give no one
        // but the owner CREATE on the public schema), and CREATE ... IF NOT EXISTS still
        // demands that privilege even when the table is there.
        let wrap = |what: &str, e: postgres::Error| {
            StoreError(format!(
                "PostgreSQL store {shown}: {what}: {} ({})",
                reason(&e),
                advice_connected(&e)
            ))
        };
        let named = format!("PostgreSQL store {shown}");
        let row = client
            .query_one(TABLES, &[])
            .map_err(|e| wrap("looking for the tables", e))?;
        let (runs, checks, marked): (bool, bool, bool) = (row.get(0), row.get(1), row.get(2));
        // The version first: a newer bulkhead may have changed or renamed the tables of runs.
        let version = marked_version(&mut client, marked)
            .map_err(|e| wrap("reading its schema version", e))?;
        if let Some(v) = version.filter(|v| !schema_known(*v)) {
            return Err(unknown_schema(&named, v));
        }
        if !(runs && checks) {
            if !create {
                let missing = match (runs, checks) {
                    (false, false) => "neither bulkhead_runs nor bulkhead_checks",
                    (false, true) => "no bulkhead_runs table",
                    _ => "no bulkhead_checks table",
                };
                return Err(StoreError(format!(
                    "PostgreSQL store {shown} holds no bulkhead run history: the database has {missing}. Check the database (and host) in --store: it must be the one `bulkhead audit --store` records into, whose first recorded run creates the tables"
                )));
            }
            if let Some(v) =
                create_schema(&mut client).map_err(|e| wrap("creating the tables", e))?
            {
                return Err(unknown_schema(&named, v));
            }
        }
        if create {
            check_recording_privileges(&mut client, user.as_deref(), &shown)?;
        }
        Ok(PgStore {
            client,
            shown,
            user,
            url: url.to_string(),
        })
    }

    fn err(&self, what: &str, e: postgres::Error) -> StoreError {
        StoreError(format!(
            "PostgreSQL store {}: {what}: {} ({})",
            self.shown,
            reason(&e),
            advice_connected(&e)
        ))
    }
}

/// Insert one run and its checks inside the caller's transaction; returns its run ID.
fn insert_run(
    tx: &mut postgres::Transaction,
    run: &NewRun,
    wrap: &dyn Fn(&str, postgres::Error) -> StoreError,
) -> Result<i64> {
    let row = tx
        .query_one(
            "INSERT INTO bulkhead_runs (host, kind, benchmark, benchmark_version, numbering, tool_version, collected_at, recorded_at, score, summary, document)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                &run.host, &run.kind, &run.benchmark, &run.benchmark_version, &run.numbering, &run.tool_version,
                &run.collected_at, &now_rfc3339(), &run.score, &run.summary.to_string(), &run.document.to_string(),
            ],
        )
        .map_err(|e| wrap("recording run", e))?;
    let id: i64 = row.get(0);
    let stmt = tx
        .prepare("INSERT INTO bulkhead_checks (run_id, position, check_id, control, status, message) VALUES ($1, $2, $3, $4, $5, $6)")
        .map_err(|e| wrap("recording checks", e))?;
    for (i, c) in run.checks.iter().enumerate() {
        tx.execute(
            &stmt,
            &[
                &id,
                &(i as i32),
                &c.check_id,
                &c.control,
                &c.status,
                &c.message,
            ],
        )
        .map_err(|e| wrap("recording checks", e))?;
    }
    Ok(id)
}

/// Take the schema lock shared for the rest of transaction `tx` and read the schema version
/// again: a newer bulkhead that migrates the store takes that lock exclusively, so it cannot
/// change the tables under what `tx` writes or deletes. Err when the version is one this
/// bulkhead does not know (`named` names the store in the refusal).
fn hold_schema_shared(
    tx: &mut postgres::Transaction<'_>,
    named: &str,
    wrap: &dyn Fn(&str, postgres::Error) -> StoreError,
) -> Result<()> {
    let marked: bool = tx
        .query_one(
            "SELECT to_regclass('bulkhead_schema') IS NOT NULL FROM pg_advisory_xact_lock_shared($1)",
            &[&SCHEMA_LOCK],
        )
        .map_err(|e| wrap("reading its schema version", e))?
        .get(0);
    let version = marked_version(tx, marked).map_err(|e| wrap("reading its schema version", e))?;
    match version.filter(|v| !schema_known(*v)) {
        Some(v) => Err(unknown_schema(named, v)),
        None => Ok(()),
    }
}

/// Whether the role may record a run: INSERT on both tables and USAGE on the sequence of run
/// IDs. Asked when the store is opened to record into, before the audit collects anything, so
/// that a node without its grants fails at once and not after a long collection.
fn check_recording_privileges(client: &mut Client, user: Option<&str>, shown: &str) -> Result<()> {
    let row = client
        .query_one(
            "SELECT has_table_privilege('bulkhead_runs', 'INSERT'),
                    has_table_privilege('bulkhead_checks', 'INSERT'),
                    coalesce(has_sequence_privilege(pg_get_serial_sequence('bulkhead_runs', 'id'), 'USAGE'), true)",
            &[],
        )
        .map_err(|e| {
            StoreError(format!(
                "PostgreSQL store {shown}: checking the role's privileges: {} ({})",
                reason(&e),
                advice_connected(&e)
            ))
        })?;
    let (runs, checks, sequence): (bool, bool, bool) = (row.get(0), row.get(1), row.get(2));
    if runs && checks && sequence {
        return Ok(());
    }
    let mut missing = Vec::new();
    if !runs {
        missing.push("INSERT on bulkhead_runs");
    }
    if !checks {
        missing.push("INSERT on bulkhead_checks");
    }
    if !sequence {
        missing.push("USAGE on the sequence bulkhead_runs_id_seq");
    }
    let role = user.unwrap_or("ROLE");
    Err(StoreError(format!(
        "PostgreSQL store {shown}: the role {role} may not record runs: it lacks {} (as the table owner: GRANT SELECT, INSERT ON bulkhead_runs, bulkhead_checks TO {role}; GRANT USAGE ON SEQUENCE bulkhead_runs_id_seq TO {role})",
        missing.join(" and ")
    )))
}

impl PgStore {
    /// Connect again when the connection was lost. A recording's connection is opened before
    /// the audit collects its facts, which may take minutes: the server may have dropped it
    /// meanwhile (a restart, `idle_session_timeout`, a failover). Nothing was written on it, so
    /// connecting again (once) loses nothing.
    fn reconnect_if_lost(&mut self) -> Result<()> {
        match self.client.batch_execute("SELECT 1") {
            Err(e) if self.client.is_closed() || advice_connected(&e) == LOST => {
                let lost = self.err("the connection opened for this recording", e);
                *self = PgStore::connect(&self.url).map_err(|again| {
                    StoreError(format!("{lost}; connecting again failed: {again}"))
                })?;
                Ok(())
            }
            Err(e) => Err(self.err("checking the connection", e)),
            Ok(()) => Ok(()),
        }
    }
}

/// A run as listed, from a row of [`RUN_COLUMNS`] (of `bulkhead_runs`).
fn run_summary(r: &postgres::Row) -> RunSummary {
    RunSummary {
        id: r.get(0),
        host: r.get(1),
        kind: r.get(2),
        benchmark: r.get(3),
        benchmark_version: r.get(4),
        numbering: r.get(5),
        tool_version: r.get(6),
        collected_at: r.get(7),
        recorded_at: r.get(8),
        score: r.get(9),
        summary: serde_json::from_str(r.get::<_, &str>(10)).unwrap_or(serde_json::Value::Null),
    }
}

impl Store for PgStore {
    fn record_all(&mut self, runs: &[NewRun]) -> Result<Vec<i64>> {
        self.reconnect_if_lost()?;
        let shown = self.shown.clone();
        let wrap = |what: &str, e: postgres::Error| {
            StoreError(format!(
                "PostgreSQL store {shown}: {what}: {} ({})",
                reason(&e),
                advice_connected(&e)
            ))
        };
        let mut tx = self.client.transaction().map_err(|e| wrap("begin", e))?;
        // The version again, holding the schema lock shared until the runs are written: a newer
        // bulkhead that migrates the store takes that lock exclusively, as the creation does, so
        // it cannot change the tables between this check and these rows, and a migration made
        // since the store was opened is seen here. Recordings share the lock and do not wait
        // for each other.
        hold_schema_shared(&mut tx, &format!("PostgreSQL store {shown}"), &wrap)?;
        let mut ids = Vec::with_capacity(runs.len());
        for run in runs {
            ids.push(insert_run(&mut tx, run, &wrap)?);
        }
        tx.commit().map_err(|e| wrap("commit", e))?;
        Ok(ids)
    }

    fn runs(&mut self, filter: &RunFilter) -> Result<Vec<RunSummary>> {
        let limit = filter.query_limit().map(|l| l as i64).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(
                &format!("SELECT {RUN_COLUMNS} FROM bulkhead_runs WHERE ($1::TEXT IS NULL OR host = $1) AND ($2::TEXT IS NULL OR kind = $2) ORDER BY id DESC LIMIT $3"),
                &[&filter.host, &filter.kind, &limit],
            )
            .map_err(|e| self.err("listing runs", e))?;
        Ok(filter.windowed(rows.iter().map(run_summary).collect()))
    }

    fn run(&mut self, run_id: i64) -> Result<RunSummary> {
        let row = self
            .client
            .query_opt(
                &format!("SELECT {RUN_COLUMNS} FROM bulkhead_runs WHERE id = $1"),
                &[&run_id],
            )
            .map_err(|e| self.err(&format!("reading run {run_id}"), e))?;
        row.as_ref().map(run_summary).ok_or_else(|| {
            StoreError(format!(
                "PostgreSQL store {} holds no run {run_id} (`bulkhead history` lists the runs it holds, with their IDs)",
                self.shown
            ))
        })
    }

    fn checks(&mut self, run_id: i64) -> Result<Vec<CheckRow>> {
        let rows = self
            .client
            .query("SELECT check_id, control, status, message FROM bulkhead_checks WHERE run_id = $1 ORDER BY position", &[&run_id])
            .map_err(|e| self.err("reading checks", e))?;
        Ok(rows
            .iter()
            .map(|r| CheckRow {
                check_id: r.get(0),
                control: r.get(1),
                status: r.get(2),
                message: r.get(3),
            })
            .collect())
    }

    fn document(&mut self, run_id: i64) -> Result<serde_json::Value> {
        let row = self
            .client
            .query_opt(
                "SELECT document FROM bulkhead_runs WHERE id = $1",
                &[&run_id],
            )
            .map_err(|e| self.err(&format!("run {run_id}"), e))?
            .ok_or_else(|| {
                StoreError(format!("PostgreSQL store {}: no run {run_id}", self.shown))
            })?;
        serde_json::from_str(row.get::<_, &str>(0)).map_err(|e| {
            StoreError(format!(
                "PostgreSQL store {}: run {run_id} document: {e}",
                self.shown
            ))
        })
    }

    fn prune(&mut self, policy: &Prune, apply: bool) -> Result<PruneReport> {
        let shown = self.shown.clone();
        let named = format!("PostgreSQL store {shown}");
        let wrap = |what: &str, e: postgres::Error| {
            StoreError(format!(
                "PostgreSQL store {shown}: {what}: {} ({})",
                reason(&e),
                advice_connected(&e)
            ))
        };
        let mut tx = self.client.transaction().map_err(|e| wrap("begin", e))?;
        if apply {
            // The schema lock shared, and the version read again, as a recording does: a newer
            // bulkhead cannot migrate the tables under these deletions.
            hold_schema_shared(&mut tx, &named, &wrap)?;
        }
        let mut planner = Planner::new(policy);
        {
            use postgres::fallible_iterator::FallibleIterator;
            let params: [&(dyn postgres::types::ToSql + Sync); 2] = [&policy.host, &policy.kind];
            let mut rows = tx
                .query_raw(
                    "SELECT id, host, kind, recorded_at FROM bulkhead_runs
                     WHERE ($1::TEXT IS NULL OR host = $1) AND ($2::TEXT IS NULL OR kind = $2)
                     ORDER BY host, kind, collected_at DESC, id DESC",
                    params,
                )
                .map_err(|e| wrap("reading the runs to prune", e))?;
            while let Some(r) = rows
                .next()
                .map_err(|e| wrap("reading the runs to prune", e))?
            {
                planner.push(r.get(0), r.get(1), r.get(2), r.get(3));
            }
        }
        let (ids, mut report) = planner.report(&named);
        if !apply {
            // Say now what --apply would lack, rather than after the operator scheduled it.
            let may: bool = tx
                .query_one(
                    "SELECT has_table_privilege('bulkhead_runs', 'DELETE') AND has_table_privilege('bulkhead_checks', 'DELETE')",
                    &[],
                )
                .map_err(|e| wrap("reading the role's privileges", e))?
                .get(0);
            if !may && report.delete > 0 {
                report.notes.push(format!(
                    "this role may not delete them: --apply needs the DELETE privilege (with SELECT) on bulkhead_runs and bulkhead_checks; as their owner, {}",
                    grant(self.user.as_deref())
                ));
            }
            return Ok(report);
        }
        let user = self.user.as_deref();
        for chunk in ids.chunks(CHUNK * 20) {
            let chunk = chunk.to_vec();
            tx.execute(
                "DELETE FROM bulkhead_checks WHERE run_id = ANY($1)",
                &[&chunk],
            )
            .map_err(|e| delete_failure(&shown, user, e))?;
            tx.execute("DELETE FROM bulkhead_runs WHERE id = ANY($1)", &[&chunk])
                .map_err(|e| delete_failure(&shown, user, e))?;
        }
        tx.commit().map_err(|e| wrap("deleting runs (commit)", e))?;
        report.applied = true;
        if report.delete > 0 {
            report.notes.push(
                "PostgreSQL reuses the space of the deleted runs for new ones once (auto)vacuum has been through the tables; the database files do not shrink (VACUUM FULL bulkhead_runs, bulkhead_checks, run by their owner, gives the space back, locking the tables while it runs)".into(),
            );
        }
        Ok(report)
    }
}

/// The statement that gives a role what pruning needs.
fn grant(user: Option<&str>) -> String {
    format!(
        "`GRANT SELECT, DELETE ON bulkhead_runs, bulkhead_checks TO {}`",
        user.unwrap_or("ROLE")
    )
}

/// A deletion refused or failed. A role without DELETE is told exactly which grant it lacks.
fn delete_failure(shown: &str, user: Option<&str>, e: postgres::Error) -> StoreError {
    if e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) {
        return StoreError(format!(
            "PostgreSQL store {shown}: deleting runs: {}: pruning needs the DELETE privilege (with SELECT) on bulkhead_runs and bulkhead_checks; as their owner, {}. Nothing was deleted",
            reason(&e),
            grant(user)
        ));
    }
    StoreError(format!(
        "PostgreSQL store {shown}: deleting runs: {} ({}); nothing was deleted",
        reason(&e),
        advice_connected(&e)
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            super::redact("postgres://app:hunter2@db:5432/fleet"),
            "postgres://app:***@db:5432/fleet"
        );
        assert_eq!(
            super::redact("host=db user=app password=hunter2"),
            "host=db user=app password=***"
        );
    }

    /// Every way libpq and the driver accept a password, and a string the driver cannot parse
    /// (where the end of the password is unknown): the message names the store without it.
    #[test]
    fn passwords_never_shown_in_any_spelling() {
        for (url, shown) in [
            (
                "postgresql://app@db:5432/fleet?password=hunter2",
                "postgresql://app:***@db:5432/fleet",
            ),
            (
                "postgres://app@db/fleet?sslmode=disable&password=hunter2",
                "postgres://app:***@db:5432/fleet",
            ),
            (
                "host=db user=app password = hunter2",
                "host=db user=app password=***",
            ),
            (
                "host=db user=app password='hunter2 hunter2' dbname=fleet",
                "host=db user=app password=*** dbname=fleet",
            ),
            // An escaped space: the password runs on to the end ("hunter2 user=app").
            (
                "host=db password=hunter2\\ user=app",
                "host=db password=***",
            ),
            // An unencoded slash in the password: the driver reads the user information up to
            // the first @.
            (
                "postgres://app:hun/ter2@db:5432/fleet",
                "postgres://app:***@db:5432/fleet",
            ),
            (
                "postgres://app:hunter2@db:notaport/fleet",
                "(connection string not shown: it could not be parsed and may hold a password)",
            ),
            (
                "host=db password='hunter2",
                "(connection string not shown: it could not be parsed and may hold a password)",
            ),
        ] {
            let got = super::redact(url);
            assert_eq!(got, shown, "{url}");
            assert!(!got.contains("hun"), "{url} shown as {got}");
        }
    }

    /// A socket directory in a URL is shown percent-encoded, so the name shown is a URL that
    /// can be given to --store again; in key=value form it is shown as written.
    #[test]
    fn a_socket_directory_is_shown_as_a_url_writes_it() {
        assert_eq!(
            super::redact("postgres://app:pw@%2Frun%2Fpostgresql:5433/fleet"),
            "postgres://app:***@%2Frun%2Fpostgresql:5433/fleet"
        );
        assert_eq!(
            super::redact("host=/run/postgresql user=app dbname=fleet"),
            "host=/run/postgresql user=app dbname=fleet"
        );
        let shown = super::redact("postgresql://app@%2Ftmp%2Fmy%20pg/fleet").replace(":***", "");
        let again: postgres::Config = shown.parse().unwrap();
        assert_eq!(
            again.get_hosts(),
            [postgres::config::Host::Unix("/tmp/my pg".into())]
        );
    }

    /// Password file lines as libpq reads them: `*` matches anything, `\\:` and `\\\\` are
    /// escaped, the password is the rest of the line.
    #[test]
    fn password_file_fields() {
        assert_eq!(
            super::pgpass_fields("db:5432:fleet:app:s3cr:et").unwrap(),
            ["db", "5432", "fleet", "app", "s3cr:et"].map(String::from)
        );
        assert_eq!(
            super::pgpass_fields(r"db\:x:*:*:app:a\\b").unwrap(),
            ["db:x", "*", "*", "app", r"a\b"].map(String::from)
        );
        assert!(super::pgpass_fields("db:5432:fleet").is_none());
    }

    /// What the string leaves out comes from libpq's variables; what it says wins. A password
    /// from PGPASSWORD or the password file is used and never named.
    #[test]
    fn the_libpq_environment_fills_what_the_url_leaves_out() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("bulkhead-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pgpass");
        std::fs::write(
            &file,
            "# fleet\nother:5432:fleet:app:nope\ndb:6432:fleet:app:from-file\n*:*:*:*:fallback\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let vars = |pairs: Vec<(&'static str, String)>| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        let passfile = file.display().to_string();

        let mut c: postgres::Config = "postgres://app@db:6432/fleet".parse().unwrap();
        let notes = super::libpq_environment(&mut c, &vars(vec![("PGPASSFILE", passfile.clone())]));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(c.get_password(), Some(&b"from-file"[..]));
        assert_eq!(
            super::named("postgres://app@db:6432/fleet", &c, false),
            "postgres://app@db:6432/fleet"
        );

        let mut c: postgres::Config = "postgres://app@db:6432/fleet".parse().unwrap();
        super::libpq_environment(
            &mut c,
            &vars(vec![
                ("PGPASSWORD", "env".into()),
                ("PGPASSFILE", passfile.clone()),
            ]),
        );
        assert_eq!(
            c.get_password(),
            Some(&b"env"[..]),
            "PGPASSWORD comes first"
        );

        let mut c: postgres::Config = "host=/run/x dbname=mine".parse().unwrap();
        super::libpq_environment(
            &mut c,
            &vars(vec![
                ("PGHOST", "elsewhere".into()),
                ("PGPORT", "6432".into()),
                ("PGUSER", "app".into()),
                ("PGDATABASE", "fleet".into()),
                ("PGPASSFILE", passfile.clone()),
            ]),
        );
        assert_eq!(
            super::named("host=/run/x dbname=mine", &c, false),
            "host=/run/x port=6432 user=app dbname=mine"
        );
        assert_eq!(c.get_password(), Some(&b"fallback"[..]));

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut c: postgres::Config = "postgres://app@db:6432/fleet".parse().unwrap();
        let notes = super::libpq_environment(&mut c, &vars(vec![("PGPASSFILE", passfile)]));
        assert_eq!(c.get_password(), None);
        assert!(notes[0].contains("chmod 0600"), "{notes:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
