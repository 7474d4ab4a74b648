//! Postgres expressions of a measurement scan in the pushed-down query language, for the
//! expressions whose meaning DataFusion reproduces exactly: built-in operators and
//! functions on tags, integers, booleans and time. Anything else is left to Postgres.
//!
//! Every value side (a constant, a parameter, `now() - interval '1 hour'`) becomes a
//! parameter of the query: the planner keeps its expression in `fdw_exprs` and the
//! executor computes it when the scan starts.

use std::collections::HashMap;
use std::ffi::CStr;

use pgrx::prelude::*;
use pgrx::PgList;
use tsparquet_core::line_protocol::FieldType;
use tsparquet_core::query::expr::{
    Aggregate, AggregateFunction, ArithmeticOp, BinOutput, CompareOp, Expr, Fraction, LocalZone,
    NumberType, TruncUnit, Value,
};
use tsparquet_core::query::integer_bounds::integer_comparison;
use tsparquet_core::query::{to_rust_regex, DateField};
use tsparquet_core::schema::{Column, ColumnKind, TIME_COLUMN, TIME_NS_COLUMN};
use tsparquet_core::time::postgres_micros_to_unix_nanos;

use super::ordered::collation_is_c;
use crate::catalog::extension_function_name;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// `Aggref.aggkind` of a plain aggregate (not ordered-set or hypothetical).
const AGGKIND_NORMAL: std::ffi::c_char = b'n' as std::ffi::c_char;
const AGGKIND_ORDERED_SET: std::ffi::c_char = b'o' as std::ffi::c_char;

/// What a column of the foreign table holds, or (in `HAVING`) a result of the grouping.
#[derive(Clone)]
enum ColumnRef {
    Time,
    TimeNs,
    Stored(Column),
    /// Result column `output` of the grouped query, of Postgres type `type_oid`.
    Result {
        output: usize,
        type_oid: pg_sys::Oid,
    },
}

pub struct Translator {
    relid: pg_sys::Index,
    table: pg_sys::Oid,
    columns: HashMap<i16, ColumnRef>,
    /// The value expressions found so far: the query's parameters, in order.
    params: *mut pg_sys::List,
    /// The session time zone something translated (`date_trunc`) is only exact in.
    time_zone: Option<String>,
    /// In `HAVING`: the expressions of the grouped results the engine computes, which the
    /// conditions are read over instead of the table's columns.
    results: Vec<(*mut pg_sys::Node, ColumnRef)>,
    /// The values of the simple CASEs (`CASE value WHEN ...`) being translated, innermost
    /// last: what the placeholders their conditions compare stand for.
    case_values: Vec<*mut pg_sys::Node>,
    /// Whether what is translated now is computed only for some rows (inside a CASE or
    /// COALESCE), where Postgres computes a value only for the rows that reach it and the
    /// engine would compute a parameter when the scan starts.
    conditional: bool,
}

/// Whether the session's time zone is UTC, so `date_trunc` on `timestamptz` cuts at
/// UTC boundaries.
pub fn session_is_utc() -> bool {
    let mut offset: std::ffi::c_long = 0;
    // SAFETY: reads the session's time zone, which Postgres always sets.
    unsafe { pg_sys::pg_get_timezone_offset(pg_sys::session_timezone, &mut offset) && offset == 0 }
}

unsafe fn is_a<T>(node: *mut T, tag: pg_sys::NodeTag) -> bool {
    // SAFETY: the caller passes a node or null.
    unsafe { !node.is_null() && pgrx::is_a(node.cast(), tag) }
}

/// The name of a built-in function, None for functions outside `pg_catalog`.
unsafe fn builtin_function(oid: pg_sys::Oid) -> Option<String> {
    // SAFETY: catalog lookups by OID.
    unsafe {
        if pg_sys::get_func_namespace(oid) != pg_sys::Oid::from(pg_sys::PG_CATALOG_NAMESPACE) {
            return None;
        }
        let name = pg_sys::get_func_name(oid);
        (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned())
    }
}

/// `tsparquet.first` or `tsparquet.last`, by the aggregate's function OID.
fn extension_aggregate(oid: pg_sys::Oid) -> Option<AggregateFunction> {
    match extension_function_name(oid)?.as_str() {
        "first" => Some(AggregateFunction::First),
        "last" => Some(AggregateFunction::Last),
        _ => None,
    }
}

/// The name of a built-in operator and its input types, None for user-defined operators.
unsafe fn builtin_operator(oid: pg_sys::Oid) -> Option<(String, pg_sys::Oid, pg_sys::Oid)> {
    if oid.to_u32() >= pg_sys::FirstNormalObjectId {
        return None;
    }
    // SAFETY: catalog lookups by OID.
    unsafe {
        let name = pg_sys::get_opname(oid);
        if name.is_null() {
            return None;
        }
        let (mut left, mut right) = (pg_sys::Oid::INVALID, pg_sys::Oid::INVALID);
        pg_sys::op_input_types(oid, &mut left, &mut right);
        Some((
            CStr::from_ptr(name).to_string_lossy().into_owned(),
            left,
            right,
        ))
    }
}

/// A date or timestamp compared with `time`, as the `timestamptz` Postgres compares it
/// as: its midnight, or its local time, in the session's time zone, computed when the scan
/// starts like any parameter. Postgres compares a value no `timestamptz` can hold without
/// converting it, so only values that convert are taken: constants in range and
/// `current_date` or `localtimestamp`. None for a value of another type.
pub unsafe fn as_timestamptz(
    value: *mut pg_sys::Node,
    value_type: pg_sys::Oid,
) -> Option<*mut pg_sys::Node> {
    // The dates a timestamp holds, in days from 2000-01-01: from 4714-11-24 BC to
    // 294276-12-31, less a week at each end, where the zone's offset (up to 167 hours in
    // Postgres) can carry a local time past the range.
    const DAYS: std::ops::RangeInclusive<i64> = (-2_451_545 + 7)..=(106_751_983 - 8);
    const MICROS_PER_DAY: i64 = 86_400_000_000;
    let (conversion, current, in_range): (
        u32,
        &[pg_sys::SQLValueFunctionOp::Type],
        fn(i64) -> bool,
    ) = match value_type {
        pg_sys::DATEOID => (
            pg_sys::F_TIMESTAMPTZ_DATE,
            &[pg_sys::SQLValueFunctionOp::SVFOP_CURRENT_DATE],
            // -infinity and infinity convert to their timestamps.
            |days| {
                let days = days as i32;
                days == i32::MIN || days == i32::MAX || DAYS.contains(&i64::from(days))
            },
        ),
        pg_sys::TIMESTAMPOID => (
            pg_sys::F_TIMESTAMPTZ_TIMESTAMP,
            &[
                pg_sys::SQLValueFunctionOp::SVFOP_LOCALTIMESTAMP,
                pg_sys::SQLValueFunctionOp::SVFOP_LOCALTIMESTAMP_N,
            ],
            |micros| {
                micros == i64::MIN
                    || micros == i64::MAX
                    || DAYS.contains(&micros.div_euclid(MICROS_PER_DAY))
            },
        ),
        pg_sys::TIMESTAMPTZOID => return Some(value),
        _ => return None,
    };
    // SAFETY: an expression node of type `value_type`.
    unsafe {
        let converts = if is_a(value, pg_sys::NodeTag::T_Const) {
            let constant = value.cast::<pg_sys::Const>();
            (*constant).constisnull || in_range((*constant).constvalue.value() as i64)
        } else {
            is_a(value, pg_sys::NodeTag::T_SQLValueFunction)
                && current.contains(&(*value.cast::<pg_sys::SQLValueFunction>()).op)
        };
        converts.then(|| {
            pg_sys::makeFuncExpr(
                pg_sys::Oid::from(conversion),
                pg_sys::TIMESTAMPTZOID,
                pg_sys::lappend(std::ptr::null_mut(), value.cast()),
                pg_sys::Oid::INVALID,
                pg_sys::Oid::INVALID,
                pg_sys::CoercionForm::COERCE_EXPLICIT_CAST,
            )
            .cast()
        })
    }
}

fn compare_op(name: &str) -> Option<CompareOp> {
    Some(match name {
        "=" => CompareOp::Equal,
        "<>" => CompareOp::NotEqual,
        "<" => CompareOp::Less,
        "<=" => CompareOp::LessOrEqual,
        ">" => CompareOp::Greater,
        ">=" => CompareOp::GreaterOrEqual,
        _ => return None,
    })
}

fn symbol(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Equal => "=",
        CompareOp::NotEqual => "<>",
        CompareOp::Less => "<",
        CompareOp::LessOrEqual => "<=",
        CompareOp::Greater => ">",
        CompareOp::GreaterOrEqual => ">=",
    }
}

/// The comparison with its operands swapped: `v < column` is `column > v`.
fn swapped(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Less => CompareOp::Greater,
        CompareOp::LessOrEqual => CompareOp::GreaterOrEqual,
        CompareOp::Greater => CompareOp::Less,
        CompareOp::GreaterOrEqual => CompareOp::LessOrEqual,
        other => other,
    }
}

fn is_float_type(oid: pg_sys::Oid) -> bool {
    matches!(oid, pg_sys::FLOAT8OID | pg_sys::FLOAT4OID)
}

fn is_integer_type(oid: pg_sys::Oid) -> bool {
    [pg_sys::INT8OID, pg_sys::INT4OID, pg_sys::INT2OID].contains(&oid)
}

/// Text comparisons whose result the collation cannot change.
unsafe fn deterministic(collation: pg_sys::Oid) -> bool {
    // SAFETY: a catalog lookup by OID.
    collation == pg_sys::Oid::INVALID || unsafe { pg_sys::get_collation_isdeterministic(collation) }
}

/// The list of a node's arguments as (first, second) if it has exactly two.
unsafe fn two_args(args: *mut pg_sys::List) -> Option<(*mut pg_sys::Node, *mut pg_sys::Node)> {
    // SAFETY: an argument list of an expression node.
    let args = unsafe { PgList::<pg_sys::Node>::from_pg(args) };
    match (args.len(), args.get_ptr(0), args.get_ptr(1)) {
        (2, Some(a), Some(b)) => Some((a, b)),
        _ => None,
    }
}

impl Translator {
    /// A translator for the scan of `table` as range table entry `relid`, whose parameters
    /// follow the `params` already in the plan.
    pub unsafe fn new(relid: pg_sys::Index, table: pg_sys::Oid, params: *mut pg_sys::List) -> Self {
        let mut columns = HashMap::new();
        // SAFETY: the planner holds a lock on the table it plans for.
        unsafe {
            let relation = pg_sys::RelationIdGetRelation(table);
            let tupdesc = pgrx::PgTupleDesc::from_pg_unchecked((*relation).rd_att);
            for (index, attribute) in tupdesc.iter().enumerate() {
                if attribute.attisdropped {
                    continue;
                }
                let attnum = index as i16 + 1;
                let name = attribute.name().to_owned();
                // A time column of another type is not the stored time: the scan refuses it.
                let column = match name.as_str() {
                    TIME_COLUMN if attribute.atttypid == pg_sys::TIMESTAMPTZOID => {
                        Some(ColumnRef::Time)
                    }
                    TIME_NS_COLUMN if attribute.atttypid == pg_sys::INT8OID => {
                        Some(ColumnRef::TimeNs)
                    }
                    TIME_COLUMN | TIME_NS_COLUMN => None,
                    _ => super::options::column_role(table, attnum)
                        .and_then(|role| {
                            let sql_type = pg_sys::format_type_with_typemod(
                                attribute.atttypid,
                                attribute.atttypmod,
                            );
                            ColumnKind::from_catalog(
                                &role,
                                &CStr::from_ptr(sql_type).to_string_lossy(),
                            )
                        })
                        .map(|kind| ColumnRef::Stored(Column { name, kind })),
                };
                if let Some(column) = column {
                    columns.insert(attnum, column);
                }
            }
            pg_sys::RelationClose(relation);
        }
        Translator {
            relid,
            table,
            columns,
            params,
            time_zone: None,
            results: Vec::new(),
            case_values: Vec::new(),
            conditional: false,
        }
    }

    /// From now on, translates conditions over grouped results (`HAVING`): `results` are
    /// the expressions of the result columns, in order, and `computed` tells which of them
    /// the engine computes.
    pub unsafe fn read_results(
        &mut self,
        results: &[*mut pg_sys::Node],
        computed: impl Fn(usize) -> bool,
    ) {
        // SAFETY: expressions of the grouped target list.
        self.results = results
            .iter()
            .enumerate()
            .filter(|(output, _)| computed(*output))
            .map(|(output, expr)| {
                let type_oid = unsafe { pg_sys::exprType(expr.cast()) };
                (*expr, ColumnRef::Result { output, type_oid })
            })
            .collect();
    }

    /// The stored columns, as the query request lists them.
    pub fn stored_columns(&self) -> Vec<Column> {
        let mut stored: Vec<(i16, Column)> = self
            .columns
            .iter()
            .filter_map(|(attnum, c)| match c {
                ColumnRef::Stored(column) => Some((*attnum, column.clone())),
                _ => None,
            })
            .collect();
        stored.sort_by_key(|(attnum, _)| *attnum);
        stored.into_iter().map(|(_, c)| c).collect()
    }

    /// The attribute of the first tag in column order, by which stored rows are sorted
    /// first.
    pub fn first_tag(&self) -> Option<i16> {
        self.columns
            .iter()
            .filter(|(_, c)| matches!(c, ColumnRef::Stored(c) if c.kind == ColumnKind::Tag))
            .map(|(attnum, _)| *attnum)
            .min()
    }

    /// The name of the stored column of an attribute.
    pub fn stored_name(&self, attnum: i16) -> Option<&str> {
        match self.columns.get(&attnum) {
            Some(ColumnRef::Stored(c)) => Some(&c.name),
            _ => None,
        }
    }

    /// The session time zone the translation is only exact in, if it depends on one.
    pub fn time_zone(&self) -> Option<String> {
        self.time_zone.clone()
    }

    /// `translate`'s result, with the parameters it made kept only where it gave one: the
    /// executor computes every parameter of the plan, also those of a condition left to
    /// Postgres.
    pub unsafe fn attempt<T>(
        &mut self,
        translate: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        // SAFETY: the list of this plan's parameters, truncated to its earlier length.
        unsafe {
            let made = PgList::<pg_sys::Node>::from_pg(self.params).len();
            let result = translate(self);
            if result.is_none() {
                self.params = pg_sys::list_truncate(self.params, made as i32);
            }
            result
        }
    }

    /// The parameter expressions, for the plan's `fdw_exprs`.
    pub fn params(&self) -> *mut pg_sys::List {
        self.params
    }

    unsafe fn column(&self, node: *mut pg_sys::Node) -> Option<&ColumnRef> {
        // SAFETY: node is an expression node.
        unsafe {
            if is_a(node, pg_sys::NodeTag::T_CaseTestExpr) {
                // A CASE of a placeholder (of an outer CASE) stands for no column.
                let value = *self.case_values.last()?;
                return match is_a(value, pg_sys::NodeTag::T_CaseTestExpr) {
                    true => None,
                    false => self.column(value),
                };
            }
            if !self.results.is_empty() {
                return self
                    .results
                    .iter()
                    .find(|(expr, _)| pg_sys::equal(expr.cast(), node.cast()))
                    .map(|(_, column)| column);
            }
            if !is_a(node, pg_sys::NodeTag::T_Var) {
                return None;
            }
            let var = node.cast::<pg_sys::Var>();
            if (*var).varno as pg_sys::Index != self.relid || (*var).varlevelsup != 0 {
                return None;
            }
            self.columns.get(&(*var).varattno)
        }
    }

    /// A value computed once when the scan starts, as a parameter.
    unsafe fn param(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: node is an expression node of the plan being built.
        unsafe {
            // A simple CASE's placeholder has no Var, and no value outside its CASE. Where
            // only some rows compute a value, only one that cannot fail (a constant or a
            // parameter of the statement) is computed for all of them.
            let computed =
                !is_a(node, pg_sys::NodeTag::T_Const) && !is_a(node, pg_sys::NodeTag::T_Param);
            if !pg_sys::is_pseudo_constant_clause(node)
                || is_a(node, pg_sys::NodeTag::T_CaseTestExpr)
                || (self.conditional && computed)
            {
                return None;
            }
            let index = PgList::<pg_sys::Node>::from_pg(self.params).len();
            self.params = pg_sys::lappend(self.params, pg_sys::copyObjectImpl(node.cast()));
            Some(Expr::Param(index))
        }
    }

    /// A condition of the scan (a qual Postgres checks whole, in its order): a filter,
    /// or a comparison of arithmetic (`usage_user + usage_system > 150`). Arithmetic is
    /// taken only here, outside `AND`, `OR` and `NOT`, whose operands Postgres computes
    /// only as far as it needs to for its answer, where the engine would compute them all.
    pub unsafe fn qual(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: node is a qual of the relation being planned.
        unsafe {
            if let Some(filter) = self.filter(node) {
                return Some(filter);
            }
            if !is_a(node, pg_sys::NodeTag::T_OpExpr) {
                return None;
            }
            let op = node.cast::<pg_sys::OpExpr>();
            let (name, ..) = builtin_operator((*op).opno)?;
            let (left, right) = two_args((*op).args)?;
            Some(Expr::compare(
                compare_op(&name)?,
                self.number(left)?,
                self.number(right)?,
            ))
        }
    }

    /// A filter: a boolean expression, None if some part of it is not translatable.
    pub unsafe fn filter(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: node is a qual of the relation being planned.
        unsafe {
            if is_a(node, pg_sys::NodeTag::T_BoolExpr) {
                let b = node.cast::<pg_sys::BoolExpr>();
                let mut items = Vec::new();
                for arg in PgList::<pg_sys::Node>::from_pg((*b).args).iter_ptr() {
                    items.push(self.filter(arg)?);
                }
                return match (*b).boolop {
                    pg_sys::BoolExprType::AND_EXPR => Some(Expr::And(items)),
                    pg_sys::BoolExprType::OR_EXPR => Some(Expr::Or(items)),
                    _ => items.pop().map(|e| Expr::Not(Box::new(e))),
                };
            }
            if is_a(node, pg_sys::NodeTag::T_OpExpr) {
                let op = node.cast::<pg_sys::OpExpr>();
                return self.operator((*op).opno, (*op).inputcollid, (*op).args);
            }
            if is_a(node, pg_sys::NodeTag::T_ScalarArrayOpExpr) {
                return self.any_or_all(node.cast());
            }
            if is_a(node, pg_sys::NodeTag::T_NullTest) {
                let test = node.cast::<pg_sys::NullTest>();
                if (*test).argisrow {
                    return None;
                }
                let expr = self.column_expr((*test).arg.cast())?;
                return Some(Expr::IsNull {
                    expr: Box::new(expr),
                    negated: (*test).nulltesttype == pg_sys::NullTestType::IS_NOT_NULL,
                });
            }
            match self.column(node)? {
                ColumnRef::Stored(Column {
                    name,
                    kind: ColumnKind::Field(FieldType::Boolean),
                }) => Some(Expr::Column(name.clone())),
                ColumnRef::Result {
                    output,
                    type_oid: pg_sys::BOOLOID,
                } => Some(Expr::Output(*output)),
                _ => None,
            }
        }
    }

    /// A column as a value in a filter.
    pub unsafe fn column_expr(&self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: node is an expression node.
        Some(match unsafe { self.column(node)? } {
            ColumnRef::Time => Expr::Time,
            ColumnRef::TimeNs => Expr::TimeNs,
            ColumnRef::Stored(c) => Expr::Column(c.name.clone()),
            ColumnRef::Result { output, .. } => Expr::Output(*output),
        })
    }

    /// Whether `operator` on `column` against a value of `value_type` means the same in
    /// DataFusion (floats are compared there in Postgres' order, NaN and -0 included).
    fn comparable(column: &ColumnRef, name: &str, value_type: pg_sys::Oid) -> bool {
        let ordering = compare_op(name).is_some();
        match column {
            ColumnRef::Time => ordering && value_type == pg_sys::TIMESTAMPTZOID,
            ColumnRef::TimeNs => ordering && is_integer_type(value_type),
            ColumnRef::Stored(c) => match c.kind {
                ColumnKind::Field(FieldType::Integer) => ordering && is_integer_type(value_type),
                ColumnKind::Field(FieldType::Float) => ordering && is_float_type(value_type),
                ColumnKind::Field(FieldType::Boolean) => {
                    matches!(name, "=" | "<>") && value_type == pg_sys::BOOLOID
                }
                ColumnKind::Tag | ColumnKind::Field(FieldType::String) => {
                    matches!(name, "=" | "<>" | "~~" | "!~~" | "~" | "!~")
                        && value_type == pg_sys::TEXTOID
                }
                _ => false,
            },
            ColumnRef::Result { type_oid, .. } => match *type_oid {
                pg_sys::INT8OID => ordering && is_integer_type(value_type),
                pg_sys::FLOAT8OID => ordering && is_float_type(value_type),
                pg_sys::TIMESTAMPTZOID => ordering && value_type == pg_sys::TIMESTAMPTZOID,
                pg_sys::BOOLOID => matches!(name, "=" | "<>") && value_type == pg_sys::BOOLOID,
                pg_sys::TEXTOID => {
                    matches!(name, "=" | "<>" | "~~" | "!~~" | "~" | "!~")
                        && value_type == pg_sys::TEXTOID
                }
                _ => false,
            },
        }
    }

    unsafe fn operator(
        &mut self,
        opno: pg_sys::Oid,
        collation: pg_sys::Oid,
        args: *mut pg_sys::List,
    ) -> Option<Expr> {
        // SAFETY: the arguments of an operator expression.
        unsafe {
            let (name, left_type, right_type) = builtin_operator(opno)?;
            if left_type == pg_sys::NUMERICOID && right_type == pg_sys::NUMERICOID {
                return self.integer_against_decimal(&name, args);
            }
            let (left, right) = two_args(args)?;
            let (column_node, mut value, name, mut value_type) =
                match (self.column(left).is_some(), self.column(right).is_some()) {
                    (true, false) => (left, right, name, right_type),
                    (false, true) => {
                        let flipped = symbol(swapped(compare_op(&name)?));
                        (right, left, flipped.to_owned(), left_type)
                    }
                    (true, true) => return self.columns_compared(&name, collation, left, right),
                    (false, false) => return None,
                };
            let column = self.column(column_node)?;
            if matches!(column, ColumnRef::Time) {
                value = as_timestamptz(value, value_type)?;
                value_type = pg_sys::TIMESTAMPTZOID;
            }
            if !Self::comparable(column, &name, value_type) || !deterministic(collation) {
                return None;
            }
            let column = self.column_expr(column_node)?;
            if matches!(name.as_str(), "~" | "!~") {
                // Known while planning, to leave to Postgres a pattern the engine would
                // read otherwise.
                let pattern = const_text(value)?;
                let regex = to_rust_regex(&pattern)?;
                if !super::regex_check::compiles(&pattern, collation) {
                    return None;
                }
                return Some(Expr::RegexMatch {
                    expr: Box::new(column),
                    regex,
                    negated: name == "!~",
                });
            }
            let value = self.param(value)?;
            Some(match name.as_str() {
                "~~" | "!~~" => Expr::Like {
                    expr: Box::new(column),
                    pattern: Box::new(value),
                    negated: name == "!~~",
                },
                _ => Expr::compare(compare_op(&name)?, column, value),
            })
        }
    }

    /// `left op right` of two columns (or, in `HAVING`, two results) of one type, which
    /// each allows against the other's type as against a value (`usage_user >
    /// usage_system`, `max(f) > min(f)`, `host = region`).
    unsafe fn columns_compared(
        &self,
        name: &str,
        collation: pg_sys::Oid,
        left: *mut pg_sys::Node,
        right: *mut pg_sys::Node,
    ) -> Option<Expr> {
        // SAFETY: the arguments of an operator expression.
        unsafe {
            let op = compare_op(name)?;
            let (left_column, right_column) = (self.column(left)?, self.column(right)?);
            let type_oid = pg_sys::exprType(left.cast());
            if pg_sys::exprType(right.cast()) != type_oid
                || !Self::comparable(left_column, name, type_oid)
                || !Self::comparable(right_column, symbol(swapped(op)), type_oid)
                || !deterministic(collation)
            {
                return None;
            }
            Some(Expr::compare(
                op,
                self.column_expr(left)?,
                self.column_expr(right)?,
            ))
        }
    }

    /// `column::numeric op constant` on an integer column, Postgres' reading of
    /// `usage > 90.0`, or `extract(field FROM time) op constant`, as the integer
    /// comparison that says the same.
    unsafe fn integer_against_decimal(
        &mut self,
        name: &str,
        args: *mut pg_sys::List,
    ) -> Option<Expr> {
        // SAFETY: the arguments of a numeric comparison.
        unsafe {
            let op = compare_op(name)?;
            let (left, right) = two_args(args)?;
            let (whole_number, constant, op) = match self.whole_number(left) {
                Some(whole_number) => (whole_number, right, op),
                None => (self.whole_number(right)?, left, swapped(op)),
            };
            let decimal =
                pgrx::AnyNumeric::from_datum(const_value(constant, pg_sys::NUMERICOID)?, false)?;
            let (op, bound) = integer_comparison(op, &decimal.to_string())?;
            let bound = pg_sys::makeConst(
                pg_sys::INT8OID,
                -1,
                pg_sys::Oid::INVALID,
                8,
                pg_sys::Datum::from(bound),
                false,
                true,
            );
            let value = self.param(bound.cast())?;
            Some(Expr::compare(op, whole_number, value))
        }
    }

    /// A whole number Postgres compares as a numeric: an integer column cast to numeric,
    /// or `extract` of a field whose values are whole numbers (`extract(hour FROM time)
    /// BETWEEN 9 AND 17`).
    unsafe fn whole_number(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: an expression node.
        unsafe {
            if let Some(column) = self.integer_cast(node) {
                return self.column_expr(column);
            }
            match self.date_part(node)? {
                part @ Expr::DatePart { .. } => Some(part),
                _ => None,
            }
        }
    }

    /// The integer column (a bigint field or `time_ns`) that `node` casts to numeric.
    unsafe fn integer_cast(&self, node: *mut pg_sys::Node) -> Option<*mut pg_sys::Node> {
        // SAFETY: an expression node.
        unsafe {
            let [argument] = function_call(node, "numeric")?[..] else {
                return None;
            };
            match self.column(argument)? {
                ColumnRef::TimeNs
                | ColumnRef::Stored(Column {
                    kind: ColumnKind::Field(FieldType::Integer),
                    ..
                }) => Some(argument),
                _ => None,
            }
        }
    }

    /// `column = ANY(array)` and `column <> ALL(array)`.
    unsafe fn any_or_all(&mut self, node: *mut pg_sys::ScalarArrayOpExpr) -> Option<Expr> {
        // SAFETY: a ScalarArrayOpExpr of the relation's quals.
        unsafe {
            let (name, _, element_type) = builtin_operator((*node).opno)?;
            let negated = match (name.as_str(), (*node).useOr) {
                ("=", true) => false,
                ("<>", false) => true,
                _ => return None,
            };
            let (left, right) = two_args((*node).args)?;
            let column = self.column(left)?.clone();
            if !Self::comparable(&column, &name, element_type)
                || !deterministic((*node).inputcollid)
            {
                return None;
            }
            let expr = self.column_expr(left)?;
            let list = vec![self.param(right)?];
            Some(Expr::InList {
                expr: Box::new(expr),
                list,
                negated,
            })
        }
    }

    /// A `GROUP BY` key: a tag, text, integer or boolean column, `time`, `time_ns`,
    /// `date_trunc(unit, time)` (see [`Self::date_trunc`]), `date_bin`, or Grafana's epoch bucket.
    pub unsafe fn group_key(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: an expression of the grouped target list.
        unsafe {
            if let Some(column) = self.column(node) {
                return match column {
                    ColumnRef::Stored(c)
                        if matches!(
                            c.kind,
                            ColumnKind::Field(FieldType::Float | FieldType::Unsigned)
                        ) =>
                    {
                        None
                    }
                    // Under a collation that finds 'A' equal to 'a', Postgres groups them
                    // together; the engine groups by bytes.
                    _ if !deterministic(pg_sys::exprCollation(node)) => None,
                    _ => self.column_expr(node),
                };
            }
            let bucket = match self.date_trunc(node) {
                Some(bucket) => bucket,
                None => self
                    .local_start(node)
                    .or_else(|| self.date_part(node))
                    .or_else(|| self.date_bin(node))
                    .or_else(|| self.epoch_bucket(node, BinOutput::EpochSeconds))
                    .or_else(|| self.epoch_bucket_start(node))?,
            };
            // Left to Postgres where the engine cannot hold the start of the earliest
            // bucket (times within a bucket's width of 1677-09-21) or, in a time zone,
            // the local time of the earliest and latest times.
            super::table_summary::times_ns(self.table)
                .is_none_or(|(earliest, latest)| bucket.buckets_in_range(earliest, latest))
                .then_some(bucket)
        }
    }

    /// `date_trunc(unit, time)` in the session's time zone: a floor in UTC in UTC,
    /// otherwise by buckets found from the zone when the scan starts (see `time_zone`);
    /// also `date_trunc(unit, time, zone)` and `date_trunc(unit, time AT TIME ZONE zone)`
    /// with a constant zone.
    unsafe fn date_trunc(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: an expression node.
        unsafe {
            let args = function_call(node, "date_trunc")?;
            let result_type = (*node.cast::<pg_sys::FuncExpr>()).funcresulttype;
            let unit = TruncUnit::from_name(&const_text(*args.first()?)?)?;
            let is_time = |node| matches!(self.column(node), Some(ColumnRef::Time));
            let local = |zone| Expr::LocalDateTrunc {
                unit,
                zone,
                time: Box::new(Expr::Time),
                buckets: Default::default(),
            };
            match (args.as_slice(), result_type) {
                (&[_, time], pg_sys::TIMESTAMPTZOID) if is_time(time) => {
                    self.time_zone = Some(super::time_zone::session_zone());
                    if session_is_utc() {
                        return Some(Expr::DateTrunc(unit, Box::new(Expr::Time)));
                    }
                    Some(local(LocalZone::Session))
                }
                (&[_, time, zone], pg_sys::TIMESTAMPTZOID) if is_time(time) => {
                    let zone = const_text(zone)?;
                    super::time_zone::zone_by_name(&zone, false)?;
                    Some(local(LocalZone::Named(zone)))
                }
                // date_trunc(unit, time AT TIME ZONE zone), of a timestamp without zone.
                (&[_, local_time], pg_sys::TIMESTAMPOID) => Some(local(LocalZone::WallClock(
                    self.wall_clock_zone(local_time)?,
                ))),
                _ => None,
            }
        }
    }

    /// `extract(field FROM time)` (a numeric) or `date_part('field', time)` (a double
    /// precision) of a field whose values are whole numbers, in the session's time zone,
    /// or of `time AT TIME ZONE zone` with a constant zone: the field of the time's local
    /// time, truncated to the field's unit as `date_trunc(unit, time AT TIME ZONE zone)`.
    unsafe fn date_part(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: an expression node.
        unsafe {
            let (args, float) = match function_call(node, "extract") {
                Some(args) => (args, false),
                None => (function_call(node, "date_part")?, true),
            };
            let &[field, time] = args.as_slice() else {
                return None;
            };
            let field = DateField::from_name(&const_text(field)?)?;
            let local = |zone| Expr::LocalDateTrunc {
                unit: field.unit(),
                zone,
                time: Box::new(Expr::Time),
                buckets: Default::default(),
            };
            let time = if matches!(self.column(time), Some(ColumnRef::Time)) {
                self.time_zone = Some(super::time_zone::session_zone());
                match session_is_utc() {
                    true => Expr::Time,
                    false => local(LocalZone::SessionWallClock),
                }
            } else {
                local(LocalZone::WallClock(self.wall_clock_zone(time)?))
            };
            let part = Expr::DatePart {
                field,
                time: Box::new(time),
            };
            Some(match float {
                true => Expr::ToFloat(Box::new(part)),
                false => part,
            })
        }
    }

    /// The zone of `time AT TIME ZONE zone` (local time without time zone) with a
    /// constant zone that Postgres finds there.
    unsafe fn wall_clock_zone(&self, node: *mut pg_sys::Node) -> Option<String> {
        // SAFETY: an expression node.
        unsafe {
            let &[zone, time] = function_call(node, "timezone")?.as_slice() else {
                return None;
            };
            if pg_sys::exprType(time) != pg_sys::TIMESTAMPTZOID
                || !matches!(self.column(time), Some(ColumnRef::Time))
            {
                return None;
            }
            let zone = const_text(zone)?;
            super::time_zone::zone_by_name(&zone, true)?;
            Some(zone)
        }
    }

    /// `date_trunc(unit, time AT TIME ZONE zone) AT TIME ZONE zone`, the start of a local
    /// day (or longer) as a `timestamptz` written before `date_trunc` took a zone: Postgres
    /// finds the offset of the local start anew in both, so to a day or longer it is
    /// `date_trunc(unit, time, zone)`. (To an hour it differs in the hour repeated when
    /// clocks go back, which `date_trunc` keeps apart.)
    unsafe fn local_start(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: an expression node.
        unsafe {
            let args = function_call(node, "timezone")?;
            let &[zone, truncated] = args.as_slice() else {
                return None;
            };
            if pg_sys::exprType(node) != pg_sys::TIMESTAMPTZOID {
                return None;
            }
            let zone = const_text(zone)?;
            let Some(Expr::LocalDateTrunc {
                unit,
                zone: LocalZone::WallClock(inner),
                ..
            }) = self.date_trunc(truncated)
            else {
                return None;
            };
            if inner != zone
                || matches!(
                    unit,
                    TruncUnit::Second | TruncUnit::Minute | TruncUnit::Hour
                )
            {
                return None;
            }
            Some(Expr::LocalDateTrunc {
                unit,
                zone: LocalZone::Named(zone),
                time: Box::new(Expr::Time),
                buckets: Default::default(),
            })
        }
    }

    /// `floor(extract(epoch from time) / n) * n` with a whole number `n` of seconds, its
    /// bucket's start given as `output`.
    unsafe fn epoch_bucket(&self, node: *mut pg_sys::Node, output: BinOutput) -> Option<Expr> {
        // SAFETY: walks an expression tree of built-in nodes.
        unsafe {
            let (multiply, floor_call, width) = operator_call(node)?;
            if multiply != "*" {
                return None;
            }
            let floor = function_call(floor_call, "floor")?;
            let (divide, extract_call, divisor) = operator_call(*floor.first()?)?;
            if divide != "/" || numeric_seconds(width)? != numeric_seconds(divisor)? {
                return None;
            }
            let extract = function_call(extract_call, "extract")?;
            let (field, time) = (extract.first()?, extract.get(1)?);
            if !const_text(*field)?.eq_ignore_ascii_case("epoch")
                || !matches!(self.column(*time)?, ColumnRef::Time)
            {
                return None;
            }
            let seconds = numeric_seconds(width)?;
            Some(Expr::TimeBin {
                width_ns: seconds.checked_mul(NANOS_PER_SECOND)?,
                origin_ns: 0,
                time: Box::new(Expr::Time),
                output,
            })
        }
    }

    /// `to_timestamp(floor(extract(epoch from time) / n) * n)`: Grafana's bucket made a
    /// `timestamptz` again, which is `date_bin` of `n` seconds from 1970. Exact: a whole
    /// number of seconds since 1970 within the engine's times is exact as a float.
    unsafe fn epoch_bucket_start(&self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: walks an expression tree of built-in nodes.
        unsafe {
            if pg_sys::exprType(node) != pg_sys::TIMESTAMPTZOID {
                return None;
            }
            let &[seconds] = function_call(node, "to_timestamp")?.as_slice() else {
                return None;
            };
            let &[bucket] = function_call(seconds, "float8")?.as_slice() else {
                return None;
            };
            self.epoch_bucket(bucket, BinOutput::Timestamp)
        }
    }

    /// `date_bin(stride, time, origin)` with a constant stride and origin (also what
    /// `tsparquet.time_bucket` is inlined into). A stride in days counts them as 24
    /// hours, as Postgres does; strides in months are left to Postgres, which refuses them.
    unsafe fn date_bin(&self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: walks an expression tree of built-in nodes.
        unsafe {
            let args = function_call(node, "date_bin")?;
            let (stride, time, origin) = (*args.first()?, *args.get(1)?, *args.get(2)?);
            if pg_sys::exprType(time) != pg_sys::TIMESTAMPTZOID
                || !matches!(self.column(time)?, ColumnRef::Time)
            {
                return None;
            }
            let stride = const_value(stride, pg_sys::INTERVALOID)?;
            let stride = &*stride.cast_mut_ptr::<pg_sys::Interval>();
            if stride.month != 0 {
                return None;
            }
            let width_us = i64::from(stride.day)
                .checked_mul(86_400_000_000)?
                .checked_add(stride.time)?;
            let origin = const_value(origin, pg_sys::TIMESTAMPTZOID)?.value() as i64;
            Some(Expr::TimeBin {
                width_ns: width_us.checked_mul(1_000).filter(|w| *w > 0)?,
                origin_ns: postgres_micros_to_unix_nanos(origin)?,
                time: Box::new(Expr::Time),
                output: BinOutput::Timestamp,
            })
        }
    }

    /// An aggregate call whose result DataFusion computes as Postgres would, with its
    /// `FILTER (WHERE ...)` if it has one.
    pub unsafe fn aggregate(&mut self, aggref: *mut pg_sys::Aggref) -> Option<Aggregate> {
        // SAFETY: an Aggref of the grouped target list.
        unsafe {
            let mut aggregate = self.aggregate_of_all_rows(aggref)?;
            let filter = (*aggref).aggfilter;
            if !filter.is_null() {
                // The engine computes an aggregate's argument for every row and then
                // takes those meeting the filter; Postgres computes it only for those,
                // so only an argument that cannot fail is computed for the others.
                if aggregate
                    .argument
                    .as_ref()
                    .is_some_and(Expr::may_raise_or_match)
                {
                    return None;
                }
                aggregate.filter = Some(self.filter(filter.cast())?);
            }
            Some(aggregate)
        }
    }

    /// An aggregate of a `bigint` or `double precision` computed from each row's fields
    /// (see [`Translator::number`]); `count` of a constant counts the rows.
    unsafe fn aggregate_of_numbers(
        &mut self,
        name: &str,
        arg: *mut pg_sys::Node,
    ) -> Option<Aggregate> {
        // SAFETY: the argument of an Aggref of the grouped target list.
        unsafe {
            if name == "count" && is_a(arg, pg_sys::NodeTag::T_Const) {
                let constant = arg.cast::<pg_sys::Const>();
                return (!(*constant).constisnull)
                    .then_some(Aggregate::new(AggregateFunction::CountRows, None));
            }
            let function = match name {
                "count" => AggregateFunction::Count,
                "sum" => AggregateFunction::Sum,
                "avg" => AggregateFunction::Avg,
                "min" => AggregateFunction::Min,
                "max" => AggregateFunction::Max,
                _ => variance(name)?,
            };
            let argument = self.number(arg)?;
            // A value alone (a constant or a parameter) has no type in the engine's terms:
            // Postgres aggregates it.
            argument.number_type()?;
            Some(Aggregate::new(function, Some(argument)))
        }
    }

    /// A `bigint` or `double precision` computed from a row's integer and float fields and
    /// values with `+ - * /`, `%` of integers, unary minus, `abs`, the cast of `bigint` to
    /// `double precision`, `CASE`, `COALESCE`, `NULLIF`, `GREATEST` and `LEAST`, each
    /// computed by the engine as Postgres computes it, errors included.
    unsafe fn number(&mut self, node: *mut pg_sys::Node) -> Option<Expr> {
        // SAFETY: an expression node of the query being planned.
        unsafe {
            let type_oid = pg_sys::exprType(node);
            // `integer` and `smallint` only as values, which Postgres widens to bigint: no
            // column has them.
            let types = [
                pg_sys::INT8OID,
                pg_sys::FLOAT8OID,
                pg_sys::INT4OID,
                pg_sys::INT2OID,
            ];
            if !types.contains(&type_oid) {
                return None;
            }
            if let Some(column) = self.column(node) {
                return match column {
                    ColumnRef::Stored(Column {
                        name,
                        kind: ColumnKind::Field(FieldType::Integer | FieldType::Float),
                    }) => Some(Expr::Column(name.clone())),
                    _ => None,
                };
            }
            if is_a(node, pg_sys::NodeTag::T_Var) {
                return None;
            }
            if is_a(node, pg_sys::NodeTag::T_CaseTestExpr) {
                // The innermost simple CASE's value, translated where that CASE stands.
                let value = self.case_values.pop()?;
                let translated = self.number(value);
                self.case_values.push(value);
                return translated;
            }
            if pg_sys::is_pseudo_constant_clause(node) {
                return self.param(node);
            }
            // `float8` also names the casts of other types.
            if let Some(args) = function_call(node, "float8") {
                let [arg] = args[..] else {
                    return None;
                };
                if pg_sys::exprType(arg) != pg_sys::INT8OID {
                    return None;
                }
                return Some(Expr::ToFloat(Box::new(self.number(arg)?)));
            }
            if is_a(node, pg_sys::NodeTag::T_CaseExpr)
                || is_a(node, pg_sys::NodeTag::T_CoalesceExpr)
            {
                return self.conditional_number(node, type_oid);
            }
            // Arithmetic of `integer` and `smallint` alone has their own ranges.
            let number = match type_oid {
                pg_sys::INT8OID => NumberType::Integer,
                pg_sys::FLOAT8OID => NumberType::Float,
                _ => return None,
            };
            if let Some(args) = function_call(node, "abs") {
                let [arg] = args[..] else {
                    return None;
                };
                return Some(Expr::Abs {
                    number,
                    expr: Box::new(self.number(arg)?),
                });
            }
            if is_a(node, pg_sys::NodeTag::T_MinMaxExpr) {
                let extreme = node.cast::<pg_sys::MinMaxExpr>();
                let mut values = Vec::new();
                for arg in PgList::<pg_sys::Node>::from_pg((*extreme).args).iter_ptr() {
                    values.push(self.number(arg)?);
                }
                return Some(Expr::GreatestOrLeast {
                    greatest: (*extreme).op == pg_sys::MinMaxOp::IS_GREATEST,
                    number,
                    values,
                });
            }
            if is_a(node, pg_sys::NodeTag::T_NullIfExpr) {
                return self.null_if(node.cast(), number);
            }
            if !is_a(node, pg_sys::NodeTag::T_OpExpr) {
                return None;
            }
            let op = node.cast::<pg_sys::OpExpr>();
            let (name, ..) = builtin_operator((*op).opno)?;
            let args: Vec<*mut pg_sys::Node> = PgList::<pg_sys::Node>::from_pg((*op).args)
                .iter_ptr()
                .collect();
            match (name.as_str(), &args[..]) {
                ("-", [arg]) => Some(Expr::Negate {
                    number,
                    expr: Box::new(self.number(*arg)?),
                }),
                (name, [left, right]) => {
                    let op = match name {
                        "+" => ArithmeticOp::Add,
                        "-" => ArithmeticOp::Subtract,
                        "*" => ArithmeticOp::Multiply,
                        "/" => ArithmeticOp::Divide,
                        "%" if number == NumberType::Integer => ArithmeticOp::Remainder,
                        _ => return None,
                    };
                    Some(Expr::Arithmetic {
                        op,
                        number,
                        left: Box::new(self.number(*left)?),
                        right: Box::new(self.number(*right)?),
                    })
                }
                _ => None,
            }
        }
    }

    /// A `CASE WHEN condition THEN value ... [ELSE value] END` or `COALESCE(value, ...)` of
    /// `type_oid`, whose values Postgres has made that type: `bigint`, `double precision`,
    /// or `integer`, which only constants have (`sum(CASE WHEN ... THEN 1 ELSE 0 END)`)
    /// and the engine holds as `bigint`. A condition is a filter or a comparison of
    /// arithmetic, as a scan's condition is (see [`Translator::qual`]).
    unsafe fn conditional_number(
        &mut self,
        node: *mut pg_sys::Node,
        type_oid: pg_sys::Oid,
    ) -> Option<Expr> {
        let conditional = std::mem::replace(&mut self.conditional, true);
        // SAFETY: a CaseExpr or CoalesceExpr of the query being planned.
        let translated = unsafe { self.case_or_coalesce(node, type_oid) };
        self.conditional = conditional;
        translated
    }

    unsafe fn case_or_coalesce(
        &mut self,
        node: *mut pg_sys::Node,
        type_oid: pg_sys::Oid,
    ) -> Option<Expr> {
        // SAFETY: a CaseExpr or CoalesceExpr of the query being planned.
        unsafe {
            let number = match type_oid {
                pg_sys::INT8OID | pg_sys::INT4OID => NumberType::Integer,
                pg_sys::FLOAT8OID => NumberType::Float,
                _ => return None,
            };
            let mut branches = Vec::new();
            let otherwise = if is_a(node, pg_sys::NodeTag::T_CaseExpr) {
                let case = node.cast::<pg_sys::CaseExpr>();
                // `CASE value WHEN ...` compares a placeholder for its value in each
                // condition: the value is computed in each (for the rows that reach it)
                // where Postgres computes it once, with the same errors.
                let simple = !(*case).arg.is_null();
                if simple {
                    self.case_values.push((*case).arg.cast());
                }
                let mut conditions = Vec::new();
                for when in PgList::<pg_sys::CaseWhen>::from_pg((*case).args).iter_ptr() {
                    let condition = (*when).expr.cast();
                    conditions.push(if simple && !compares_placeholder(condition) {
                        None
                    } else {
                        self.qual(condition)
                    });
                }
                if simple {
                    self.case_values.pop();
                }
                for (when, condition) in PgList::<pg_sys::CaseWhen>::from_pg((*case).args)
                    .iter_ptr()
                    .zip(conditions)
                {
                    branches.push((condition?, self.number((*when).result.cast())?));
                }
                self.number((*case).defresult.cast())?
            } else {
                let coalesce = node.cast::<pg_sys::CoalesceExpr>();
                let mut values: Vec<Expr> = Vec::new();
                for arg in PgList::<pg_sys::Node>::from_pg((*coalesce).args).iter_ptr() {
                    values.push(self.number(arg)?);
                }
                let last = values.pop()?;
                for value in values {
                    let present = Expr::IsNull {
                        expr: Box::new(value.clone()),
                        negated: true,
                    };
                    branches.push((present, value));
                }
                last
            };
            Some(Expr::Case {
                number,
                branches,
                otherwise: Box::new(otherwise),
            })
        }
    }

    /// `NULLIF(value, other)`: NULL where the two are equal, else the value.
    unsafe fn null_if(&mut self, node: *mut pg_sys::OpExpr, number: NumberType) -> Option<Expr> {
        // SAFETY: a NullIfExpr of the query being planned.
        unsafe {
            let (name, ..) = builtin_operator((*node).opno)?;
            let (value, other) = two_args((*node).args)?;
            if name != "=" {
                return None;
            }
            let value = self.number(value)?;
            let equal = Expr::compare(CompareOp::Equal, value.clone(), self.number(other)?);
            Some(Expr::Case {
                number,
                branches: vec![(equal, Expr::Value(Value::Null))],
                otherwise: Box::new(value),
            })
        }
    }

    /// `percentile_cont(fraction) WITHIN GROUP (ORDER BY value)` of a `double precision`,
    /// or `percentile_disc` of a `double precision` or `bigint`, computed as
    /// [`Translator::number`] computes it, with a constant fraction between 0 and 1
    /// (Postgres raises its error for others), in ascending order.
    unsafe fn percentile(&mut self, aggref: *mut pg_sys::Aggref) -> Option<Aggregate> {
        // SAFETY: an ordered-set Aggref of the grouped target list.
        unsafe {
            let a = &*aggref;
            let discrete = match builtin_function(a.aggfnoid)?.as_str() {
                "percentile_cont" => false,
                "percentile_disc" => true,
                _ => return None,
            };
            if a.agglevelsup != 0 || a.aggsplit != pg_sys::AggSplit::AGGSPLIT_SIMPLE {
                return None;
            }
            let direct: Vec<*mut pg_sys::Node> = PgList::<pg_sys::Node>::from_pg(a.aggdirectargs)
                .iter_ptr()
                .collect();
            let [fraction] = direct[..] else {
                return None;
            };
            let fraction = f64::from_datum(const_value(fraction, pg_sys::FLOAT8OID)?, false)?;
            let fraction = Fraction::new(fraction)?;
            let entries: Vec<*mut pg_sys::TargetEntry> =
                PgList::<pg_sys::TargetEntry>::from_pg(a.args)
                    .iter_ptr()
                    .collect();
            let order: Vec<*mut pg_sys::SortGroupClause> =
                PgList::<pg_sys::SortGroupClause>::from_pg(a.aggorder)
                    .iter_ptr()
                    .collect();
            let ([entry], [clause]) = (&entries[..], &order[..]) else {
                return None;
            };
            let value = (**entry).expr.cast();
            let value_type = pg_sys::exprType(value);
            let ascending = match value_type {
                pg_sys::FLOAT8OID => pg_sys::Float8LessOperator,
                pg_sys::INT8OID if discrete => pg_sys::Int8LessOperator,
                _ => return None,
            };
            // `percentile_disc` returns its value's type; `percentile_cont` a float.
            let result_type = if discrete {
                value_type
            } else {
                pg_sys::FLOAT8OID
            };
            if (**clause).tleSortGroupRef != (**entry).ressortgroupref
                || (**clause).sortop != ascending.into()
                || a.aggtype != result_type
            {
                return None;
            }
            let function = if discrete {
                AggregateFunction::PercentileDisc(fraction)
            } else {
                AggregateFunction::PercentileCont(fraction)
            };
            // A value alone (a constant or a parameter) is left to Postgres, as for the
            // other aggregates.
            match self.number(value)? {
                Expr::Param(_) | Expr::Value(_) => None,
                value => Some(Aggregate::new(function, Some(value))),
            }
        }
    }

    unsafe fn aggregate_of_all_rows(&mut self, aggref: *mut pg_sys::Aggref) -> Option<Aggregate> {
        // SAFETY: an Aggref of the grouped target list.
        unsafe {
            let a = &*aggref;
            if a.aggkind == AGGKIND_ORDERED_SET {
                return self.percentile(aggref);
            }
            if !a.aggorder.is_null()
                || a.aggvariadic
                || a.aggkind != AGGKIND_NORMAL
                || a.agglevelsup != 0
                || a.aggsplit != pg_sys::AggSplit::AGGSPLIT_SIMPLE
            {
                return None;
            }
            let args: Vec<*mut pg_sys::Node> = PgList::<pg_sys::TargetEntry>::from_pg(a.args)
                .iter_ptr()
                .map(|te| (*te).expr.cast())
                .collect();
            if let Some(function) = extension_aggregate(a.aggfnoid) {
                let [value, time] = args[..] else {
                    return None;
                };
                if !a.aggdistinct.is_null() || !matches!(self.column(time)?, ColumnRef::Time) {
                    return None;
                }
                return Some(Aggregate::new(function, Some(self.column_expr(value)?)));
            }
            let name = builtin_function(a.aggfnoid)?;
            if a.aggstar {
                return (name == "count" && args.is_empty())
                    .then_some(Aggregate::new(AggregateFunction::CountRows, None));
            }
            let [arg] = args[..] else {
                return None;
            };
            let Some(column) = self.column(arg).cloned() else {
                if !a.aggdistinct.is_null() {
                    return None;
                }
                // A condition of each row, one a filter allows or a comparison of
                // arithmetic (`bool_or(usage_user > 90)`), NULL where Postgres' is.
                let function = match name.as_str() {
                    "bool_and" | "every" => AggregateFunction::BoolAnd,
                    "bool_or" => AggregateFunction::BoolOr,
                    _ => return self.aggregate_of_numbers(&name, arg),
                };
                return Some(Aggregate::new(function, Some(self.qual(arg)?)));
            };
            let argument = Some(self.column_expr(arg)?);
            let kind = match &column {
                ColumnRef::Stored(c) => Some(c.kind),
                _ => None,
            };
            let numeric = matches!(
                kind,
                Some(ColumnKind::Field(
                    FieldType::Integer | FieldType::Unsigned | FieldType::Float
                ))
            );
            let boolean = kind == Some(ColumnKind::Field(FieldType::Boolean));
            // Text only where Postgres compares it as the engine does, by its bytes.
            let text = matches!(
                kind,
                Some(ColumnKind::Tag | ColumnKind::Field(FieldType::String))
            );
            let ordered = numeric
                || matches!(column, ColumnRef::Time | ColumnRef::TimeNs)
                || (text && collation_is_c(a.inputcollid));
            let function = match (name.as_str(), a.aggdistinct.is_null()) {
                ("count", true) => AggregateFunction::Count,
                // Distinct floats are left to Postgres: it counts -0 and 0 as one value;
                // so is text under a collation that finds different strings equal.
                ("count", false)
                    if kind != Some(ColumnKind::Field(FieldType::Float))
                        && deterministic(a.inputcollid) =>
                {
                    AggregateFunction::CountDistinct
                }
                ("sum", true) if numeric => AggregateFunction::Sum,
                ("avg", true) if numeric => AggregateFunction::Avg,
                (name, true) if numeric && variance(name).is_some() => variance(name)?,
                ("bool_and" | "every", true) if boolean => AggregateFunction::BoolAnd,
                ("bool_or", true) if boolean => AggregateFunction::BoolOr,
                ("min", true) if ordered => AggregateFunction::Min,
                ("max", true) if ordered => AggregateFunction::Max,
                _ => return None,
            };
            Some(Aggregate::new(function, argument))
        }
    }
}

/// The variance or standard deviation a built-in aggregate's name stands for.
fn variance(name: &str) -> Option<AggregateFunction> {
    let (sample, stddev) = match name {
        "variance" | "var_samp" => (true, false),
        "var_pop" => (false, false),
        "stddev" | "stddev_samp" => (true, true),
        "stddev_pop" => (false, true),
        _ => return None,
    };
    Some(AggregateFunction::Variance { sample, stddev })
}

/// The value of a non-null constant of type `type_oid`.
unsafe fn const_value(node: *mut pg_sys::Node, type_oid: pg_sys::Oid) -> Option<pg_sys::Datum> {
    // SAFETY: an expression node.
    unsafe {
        if !is_a(node, pg_sys::NodeTag::T_Const) {
            return None;
        }
        let c = node.cast::<pg_sys::Const>();
        (!(*c).constisnull && (*c).consttype == type_oid).then_some((*c).constvalue)
    }
}

/// The text of a non-null `text` constant.
unsafe fn const_text(node: *mut pg_sys::Node) -> Option<String> {
    // SAFETY: a text Const holds a text datum.
    unsafe { String::from_datum(const_value(node, pg_sys::TEXTOID)?, false) }
}

/// The whole number of seconds a positive `numeric` constant holds.
unsafe fn numeric_seconds(node: *mut pg_sys::Node) -> Option<i64> {
    // SAFETY: a numeric Const holds a numeric datum.
    let number =
        unsafe { pgrx::AnyNumeric::from_datum(const_value(node, pg_sys::NUMERICOID)?, false)? };
    number.to_string().parse::<i64>().ok().filter(|n| *n > 0)
}

/// A built-in binary operator call: its name and operands.
unsafe fn operator_call(
    node: *mut pg_sys::Node,
) -> Option<(String, *mut pg_sys::Node, *mut pg_sys::Node)> {
    // SAFETY: an expression node.
    unsafe {
        if !is_a(node, pg_sys::NodeTag::T_OpExpr) {
            return None;
        }
        let op = node.cast::<pg_sys::OpExpr>();
        let (name, ..) = builtin_operator((*op).opno)?;
        let (left, right) = two_args((*op).args)?;
        Some((name, left, right))
    }
}

/// Whether a simple CASE's condition is `placeholder = other` as Postgres writes it (or,
/// for a boolean value, `placeholder` or `NOT placeholder`). A placeholder cast to the
/// other's type has no column to stand for, and would be made a parameter.
unsafe fn compares_placeholder(condition: *mut pg_sys::Node) -> bool {
    // SAFETY: an expression node.
    unsafe {
        let placeholder = |node| is_a(node, pg_sys::NodeTag::T_CaseTestExpr);
        if placeholder(condition) {
            return true;
        }
        if is_a(condition, pg_sys::NodeTag::T_BoolExpr) {
            let negation = condition.cast::<pg_sys::BoolExpr>();
            let args: Vec<*mut pg_sys::Node> = PgList::<pg_sys::Node>::from_pg((*negation).args)
                .iter_ptr()
                .collect();
            return (*negation).boolop == pg_sys::BoolExprType::NOT_EXPR
                && matches!(args[..], [arg] if placeholder(arg));
        }
        operator_call(condition).is_some_and(|(_, left, _)| placeholder(left))
    }
}

/// The arguments of a call of the built-in function `name`.
unsafe fn function_call(node: *mut pg_sys::Node, name: &str) -> Option<Vec<*mut pg_sys::Node>> {
    // SAFETY: an expression node.
    unsafe {
        if !is_a(node, pg_sys::NodeTag::T_FuncExpr) {
            return None;
        }
        let f = node.cast::<pg_sys::FuncExpr>();
        if builtin_function((*f).funcid)? != name {
            return None;
        }
        Some(
            PgList::<pg_sys::Node>::from_pg((*f).args)
                .iter_ptr()
                .collect(),
        )
    }
}
