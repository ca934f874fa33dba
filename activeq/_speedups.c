/* The inner steps of activeq.query in C: the walks that find a query's shape key and bound
 * values (_py_shape, and _py_common_shape for a query of filters, ordering and a limit
 * only), and the step every builder method takes (_py_derive, _py_derive_uncommon).
 *
 * A report query spends a fifth of its build-and-render time walking its parts for the key,
 * and as much again in the builders' steps; in C the walk costs a few instructions per item
 * instead of a dozen bytecodes, and a step one call instead of a frame. The Python functions
 * stay the definitions: these must give equal results for every query, which
 * tests/test_speedups.py checks, and activeq runs the Python ones where this module is not
 * built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Set once by configure(): the objects of activeq.query the walks compare against. */
static PyObject *part_end;          /* _PART_END */
static PyObject *from_items;        /* frozenset of the FROM item classes */
static PyObject *derived;           /* frozenset of Subquery and CTE */
static PyObject *output_column;     /* the OutputColumn class */
static PyObject *sharing_signature; /* _sharing_signature(query, params) */
static PyObject *state_slot;        /* Query.__dict__["_s"], the member holding a query's state */

static PyObject *str_columns, *str_joins, *str_wheres, *str_groups, *str_havings,
    *str_orders, *str_limit, *str_offset, *str_extra, *str_token, *str_distinct,
    *str_count_wrap, *str_memo, *str_select, *str_source, *str_compound, *str_distinct_on,
    *str_aq, *str_common;

/* A query's state dict (a new reference), read through its slot's descriptor. */
static PyObject *
query_state(PyObject *query)
{
    if (state_slot == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "activeq._speedups.configure() was not called");
        return NULL;
    }
    PyObject *state = Py_TYPE(state_slot)->tp_descr_get(state_slot, query,
                                                         (PyObject *)Py_TYPE(query));
    if (state != NULL && !PyDict_Check(state)) {
        Py_DECREF(state);
        PyErr_SetString(PyExc_TypeError, "a query's state must be a dict");
        return NULL;
    }
    return state;
}

static PyObject *
state_get(PyObject *state, PyObject *name)
{
    PyObject *value = PyDict_GetItemWithError(state, name);
    if (value == NULL && !PyErr_Occurred()) {
        PyErr_SetObject(PyExc_KeyError, name);
    }
    return value; /* borrowed */
}

/* A node is a tuple (key, params, *fields); params is a tuple. */
static int
node_parts(PyObject *node, PyObject **key, PyObject **params)
{
    if (!PyTuple_Check(node) || PyTuple_GET_SIZE(node) < 2) {
        PyErr_Format(PyExc_TypeError, "not a node: %R", node);
        return -1;
    }
    *key = PyTuple_GET_ITEM(node, 0);
    *params = PyTuple_GET_ITEM(node, 1);
    if (!PyTuple_Check(*params)) {
        PyErr_Format(PyExc_TypeError, "the values of %R are not a tuple", node);
        return -1;
    }
    return 0;
}

static int
extend(PyObject *list, PyObject *values)
{
    Py_ssize_t n = PyTuple_GET_SIZE(values);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_Append(list, PyTuple_GET_ITEM(values, i)) < 0) {
            return -1;
        }
    }
    return 0;
}

static int
add_node_values(PyObject *node, PyObject *params)
{
    PyObject *key, *values;
    if (node_parts(node, &key, &values) < 0) {
        return -1;
    }
    return extend(params, values);
}

/* Appends the key of each item of `part` (a tuple of nodes) to items and its values to
 * params (None, for a query's columns, is the whole row: no items). */
static int
walk_part(PyObject *part, PyObject *items, PyObject *params)
{
    if (part == Py_None) {
        return 0;
    }
    if (!PyTuple_Check(part)) {
        PyErr_Format(PyExc_TypeError, "a query part must be a tuple, not %R", part);
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(part);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key, *values;
        if (node_parts(PyTuple_GET_ITEM(part, i), &key, &values) < 0
            || PyList_Append(items, key) < 0 || extend(params, values) < 0) {
            return -1;
        }
    }
    return 0;
}

static int
in_set(PyObject *set, PyObject *item)
{
    return PySet_Contains(set, item);
}

/* Whether a derived table (or set operation) reads a query that groups by values. */
static int
groups_of(PyObject *item)
{
    PyObject *groups = PyObject_GetAttr(item, str_groups);
    if (groups == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(groups);
    Py_DECREF(groups);
    return truth;
}

/* The count of a LIMIT node (borrowed), or None for no limit; NULL on error. */
static PyObject *
limit_count(PyObject *limit)
{
    if (limit == Py_None) {
        return Py_None;
    }
    if (!PyTuple_Check(limit) || PyTuple_GET_SIZE(limit) < 3) {
        PyErr_Format(PyExc_TypeError, "not a LIMIT node: %R", limit);
        return NULL;
    }
    return PyTuple_GET_ITEM(limit, 2);
}

/* 1 when `item` reads a query that groups by values (see _groups_within): a derived table
 * (Subquery, CTE) that says so or, unless `derived_only`, any item that does (a set
 * operation); 0 when not, -1 on error. */
static int
reads_grouped_values(PyObject *item, int derived_only)
{
    if (derived_only) {
        int is_derived = in_set(derived, (PyObject *)Py_TYPE(item));
        if (is_derived <= 0) {
            return is_derived;
        }
    }
    return groups_of(item);
}

/* Adds the values of the Extra's item `name` (its source or compound), when it has one, to
 * params: then whether the item reads grouped values, as reads_grouped_values. */
static int
extra_item(PyObject *extra, PyObject *name, int derived_only, PyObject *params)
{
    PyObject *item = PyObject_GetAttr(extra, name);
    if (item == NULL) {
        return -1;
    }
    int result = 0;
    if (item != Py_None) {
        result = add_node_values(item, params);
        if (result == 0) {
            result = reads_grouped_values(item, derived_only);
        }
    }
    Py_DECREF(item);
    return result;
}

static PyObject *
shape(PyObject *module, PyObject *query)
{
    PyObject *state = query_state(query);
    if (state == NULL) {
        return NULL;
    }
    PyObject *items = NULL, *params = NULL, *key = NULL, *params_tuple = NULL, *memo = NULL;
    PyObject *columns, *joins, *wheres, *groups, *havings, *orders, *limit, *offset, *extra;
    if (!(columns = state_get(state, str_columns)) || !(joins = state_get(state, str_joins))
        || !(wheres = state_get(state, str_wheres)) || !(groups = state_get(state, str_groups))
        || !(havings = state_get(state, str_havings)) || !(orders = state_get(state, str_orders))
        || !(limit = state_get(state, str_limit)) || !(offset = state_get(state, str_offset))
        || !(extra = state_get(state, str_extra))) {
        goto fail;
    }
    PyObject *token, *distinct, *count_wrap;
    if (!(token = state_get(state, str_token)) || !(distinct = state_get(state, str_distinct))
        || !(count_wrap = state_get(state, str_count_wrap))) {
        goto fail;
    }
    if ((params = PyList_New(0)) == NULL) {
        goto fail;
    }
    if (extra != Py_None) {
        PyObject *distinct_on = PyObject_GetAttr(extra, str_distinct_on);
        if (distinct_on == NULL) {
            goto fail;
        }
        int failed = 0;
        if (!PyTuple_Check(distinct_on)) {
            PyErr_SetString(PyExc_TypeError, "DISTINCT ON must be a tuple");
            failed = -1;
        }
        for (Py_ssize_t i = 0; failed == 0 && i < PyTuple_GET_SIZE(distinct_on); i++) {
            failed = add_node_values(PyTuple_GET_ITEM(distinct_on, i), params);
        }
        Py_DECREF(distinct_on);
        if (failed < 0) {
            goto fail;
        }
    }
    PyObject *count = limit_count(limit);
    if (count == NULL) {
        goto fail;
    }
    /* The count itself, not whether there is one (see _shape). */
    if ((items = PyList_New(7)) == NULL) {
        goto fail;
    }
    PyObject *head[7] = {str_select, token, columns == Py_None ? Py_True : Py_False, count,
                         offset == Py_None ? Py_True : Py_False, distinct, count_wrap};
    for (int i = 0; i < 7; i++) {
        PyList_SET_ITEM(items, i, Py_NewRef(head[i]));
    }
    if (walk_part(columns, items, params) < 0 || PyList_Append(items, part_end) < 0) {
        goto fail;
    }
    int within = 0;
    if (extra != Py_None) {
        int source_groups = extra_item(extra, str_source, 1, params);
        int compound_groups = source_groups < 0 ? -1 : extra_item(extra, str_compound, 0, params);
        if (compound_groups < 0) {
            goto fail;
        }
        within = source_groups || compound_groups;
    }
    if (!PyTuple_Check(joins)) {
        PyErr_SetString(PyExc_TypeError, "a query's joins must be a tuple");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(joins); i++) {
        PyObject *join = PyTuple_GET_ITEM(joins, i);
        if (!PyTuple_Check(join) || PyTuple_GET_SIZE(join) != 3) {
            PyErr_Format(PyExc_TypeError, "not a join: %R", join);
            goto fail;
        }
        PyObject *target = PyTuple_GET_ITEM(join, 1), *on = PyTuple_GET_ITEM(join, 2);
        if (PyList_Append(items, PyTuple_GET_ITEM(join, 0)) < 0) {
            goto fail;
        }
        int is_item = in_set(from_items, (PyObject *)Py_TYPE(target));
        if (is_item < 0) {
            goto fail;
        }
        if (is_item) {
            PyObject *target_key, *target_values;
            if (node_parts(target, &target_key, &target_values) < 0
                || PyList_Append(items, target_key) < 0 || extend(params, target_values) < 0) {
                goto fail;
            }
            if (!within && (within = reads_grouped_values(target, 1)) < 0) {
                goto fail;
            }
        }
        else {
            PyObject *info = PyObject_GetAttr(target, str_aq);
            if (info == NULL) {
                goto fail;
            }
            PyObject *model_token = PyObject_GetAttr(info, str_token);
            Py_DECREF(info);
            if (model_token == NULL) {
                goto fail;
            }
            int failed = PyList_Append(items, model_token);
            Py_DECREF(model_token);
            if (failed < 0) {
                goto fail;
            }
        }
        if (on == Py_None) {
            if (PyList_Append(items, Py_None) < 0) {
                goto fail;
            }
        }
        else {
            PyObject *on_key, *on_values;
            if (node_parts(on, &on_key, &on_values) < 0 || PyList_Append(items, on_key) < 0
                || extend(params, on_values) < 0) {
                goto fail;
            }
        }
    }
    if (PyList_Append(items, part_end) < 0 || walk_part(wheres, items, params) < 0
        || PyList_Append(items, part_end) < 0) {
        goto fail;
    }
    if (!PyTuple_Check(groups)) {
        PyErr_SetString(PyExc_TypeError, "a query's groups must be a tuple");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(groups); i++) {
        PyObject *node = PyTuple_GET_ITEM(groups, i), *group_key, *group_values;
        if (node_parts(node, &group_key, &group_values) < 0 || PyList_Append(items, group_key) < 0
            || extend(params, group_values) < 0) {
            goto fail;
        }
        /* Grouping by values, or by a name or position of the select list. */
        if (PyTuple_GET_SIZE(group_values) || Py_TYPE(node) == (PyTypeObject *)output_column) {
            within = 1;
        }
    }
    if (PyList_Append(items, part_end) < 0 || walk_part(havings, items, params) < 0
        || PyList_Append(items, part_end) < 0 || walk_part(orders, items, params) < 0
        || PyList_Append(items, part_end) < 0) {
        goto fail;
    }
    if (limit != Py_None && add_node_values(limit, params) < 0) {
        goto fail;
    }
    if (offset != Py_None && add_node_values(offset, params) < 0) {
        goto fail;
    }
    if ((key = PyList_AsTuple(items)) == NULL || (params_tuple = PyList_AsTuple(params)) == NULL) {
        goto fail;
    }
    if (within) {
        /* Which repeated expressions hold equal values decides which share placeholders. */
        PyObject *signature = PyObject_CallFunctionObjArgs(sharing_signature, query,
                                                           params_tuple, NULL);
        if (signature == NULL) {
            goto fail;
        }
        PyObject *signed_key = PyTuple_New(PyTuple_GET_SIZE(key) + 1);
        if (signed_key == NULL) {
            Py_DECREF(signature);
            goto fail;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(key); i++) {
            PyTuple_SET_ITEM(signed_key, i, Py_NewRef(PyTuple_GET_ITEM(key, i)));
        }
        PyTuple_SET_ITEM(signed_key, PyTuple_GET_SIZE(key), signature);
        Py_SETREF(key, signed_key);
    }
    if ((memo = PyTuple_Pack(2, key, params_tuple)) == NULL
        || PyDict_SetItem(state, str_memo, memo) < 0) {
        Py_CLEAR(memo);
    }
fail:
    Py_XDECREF(items);
    Py_XDECREF(params);
    Py_XDECREF(key);
    Py_XDECREF(params_tuple);
    Py_DECREF(state);
    return memo;
}

/* A tuple of the keys of a part's items. */
static PyObject *
part_keys(PyObject *part, PyObject *params)
{
    if (!PyTuple_Check(part)) {
        PyErr_Format(PyExc_TypeError, "a query part must be a tuple, not %R", part);
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(part);
    PyObject *keys = PyTuple_New(n);
    if (keys == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key, *values;
        if (node_parts(PyTuple_GET_ITEM(part, i), &key, &values) < 0
            || extend(params, values) < 0) {
            Py_DECREF(keys);
            return NULL;
        }
        PyTuple_SET_ITEM(keys, i, Py_NewRef(key));
    }
    return keys;
}

static PyObject *
common_shape(PyObject *module, PyObject *query)
{
    PyObject *state = query_state(query);
    if (state == NULL) {
        return NULL;
    }
    PyObject *params = NULL, *where_keys = NULL, *order_keys = NULL, *key = NULL;
    PyObject *params_tuple = NULL, *memo = NULL;
    PyObject *token, *wheres, *orders, *limit, *offset, *distinct, *count_wrap;
    if (!(token = state_get(state, str_token)) || !(wheres = state_get(state, str_wheres))
        || !(orders = state_get(state, str_orders)) || !(limit = state_get(state, str_limit))
        || !(offset = state_get(state, str_offset))
        || !(distinct = state_get(state, str_distinct))
        || !(count_wrap = state_get(state, str_count_wrap))) {
        goto fail;
    }
    if ((params = PyList_New(0)) == NULL || (where_keys = part_keys(wheres, params)) == NULL
        || (order_keys = part_keys(orders, params)) == NULL) {
        goto fail;
    }
    PyObject *count = limit_count(limit);
    if (count == NULL || (limit != Py_None && add_node_values(limit, params) < 0)) {
        goto fail;
    }
    if (offset != Py_None && add_node_values(offset, params) < 0) {
        goto fail;
    }
    key = PyTuple_Pack(7, token, where_keys, order_keys, count,
                       offset == Py_None ? Py_True : Py_False, distinct, count_wrap);
    if (key == NULL || (params_tuple = PyList_AsTuple(params)) == NULL) {
        goto fail;
    }
    if ((memo = PyTuple_Pack(2, key, params_tuple)) == NULL
        || PyDict_SetItem(state, str_memo, memo) < 0) {
        Py_CLEAR(memo);
    }
fail:
    Py_XDECREF(params);
    Py_XDECREF(where_keys);
    Py_XDECREF(order_keys);
    Py_XDECREF(key);
    Py_XDECREF(params_tuple);
    Py_DECREF(state);
    return memo;
}

/* A new query of the query's class whose state is the query's with `part` set to `value`
 * and no memo; with `uncommon`, not of the common shape either. What every builder does. */
static PyObject *
derive_query(PyObject *const *args, Py_ssize_t nargs, int uncommon)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "takes 3 arguments (query, part, value), not %zd", nargs);
        return NULL;
    }
    PyObject *state = query_state(args[0]);
    if (state == NULL) {
        return NULL;
    }
    PyObject *copy = PyDict_Copy(state);
    Py_DECREF(state);
    if (copy == NULL) {
        return NULL;
    }
    PyObject *query = NULL;
    if (PyDict_SetItem(copy, args[1], args[2]) < 0
        || PyDict_SetItem(copy, str_memo, Py_None) < 0
        || (uncommon && PyDict_SetItem(copy, str_common, Py_False) < 0)
        || (query = PyObject_CallNoArgs((PyObject *)Py_TYPE(args[0]))) == NULL) {
        Py_DECREF(copy);
        return NULL;
    }
    int failed = Py_TYPE(state_slot)->tp_descr_set(state_slot, query, copy);
    Py_DECREF(copy);
    if (failed < 0) {
        Py_DECREF(query);
        return NULL;
    }
    return query;
}

static PyObject *
derive(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return derive_query(args, nargs, 0);
}

static PyObject *
derive_uncommon(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return derive_query(args, nargs, 1);
}

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *end, *items, *derived_items, *output, *signature, *slot;
    if (!PyArg_ParseTuple(args, "OO!O!O!OO:configure", &end, &PyFrozenSet_Type, &items,
                          &PyFrozenSet_Type, &derived_items, &PyType_Type, &output,
                          &signature, &slot)) {
        return NULL;
    }
    if (Py_TYPE(slot)->tp_descr_get == NULL || Py_TYPE(slot)->tp_descr_set == NULL) {
        PyErr_SetString(PyExc_TypeError, "configure(): the state slot must be a data descriptor");
        return NULL;
    }
    if (!PyCallable_Check(signature)) {
        PyErr_SetString(PyExc_TypeError, "configure(): the sharing signature must be callable");
        return NULL;
    }
    Py_XSETREF(part_end, Py_NewRef(end));
    Py_XSETREF(from_items, Py_NewRef(items));
    Py_XSETREF(derived, Py_NewRef(derived_items));
    Py_XSETREF(output_column, Py_NewRef(output));
    Py_XSETREF(sharing_signature, Py_NewRef(signature));
    Py_XSETREF(state_slot, Py_NewRef(slot));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"shape", shape, METH_O,
     "shape(query) -> (key, params): activeq.query._shape, computed in C."},
    {"common_shape", common_shape, METH_O,
     "common_shape(query) -> (key, params): activeq.query._common_shape, computed in C."},
    {"derive", (PyCFunction)(void (*)(void))derive, METH_FASTCALL,
     "derive(query, part, value) -> Query: activeq.query._py_derive, in C."},
    {"derive_uncommon", (PyCFunction)(void (*)(void))derive_uncommon, METH_FASTCALL,
     "derive_uncommon(query, part, value) -> Query: activeq.query._py_derive_uncommon, in C."},
    {"configure", configure, METH_VARARGS,
     "configure(part_end, from_items, derived, output_column, sharing_signature, state_slot): "
     "the objects of activeq.query the walks compare against, and the slot of a query's "
     "state."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "activeq._speedups",
    "The shape walks and the builder step of activeq.query in C.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&str_columns, "columns"}, {&str_joins, "joins"},
        {&str_wheres, "wheres"}, {&str_groups, "groups"}, {&str_havings, "havings"},
        {&str_orders, "orders"}, {&str_limit, "limit"}, {&str_offset, "offset"},
        {&str_extra, "extra"}, {&str_token, "token"}, {&str_distinct, "distinct"},
        {&str_count_wrap, "count_wrap"}, {&str_memo, "_memo"}, {&str_select, "select"},
        {&str_source, "source"}, {&str_compound, "compound"},
        {&str_distinct_on, "distinct_on"}, {&str_aq, "__aq__"}, {&str_common, "common"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (*names[i].slot == NULL
            && (*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&module_def);
}
